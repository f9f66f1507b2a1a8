//! The ledger comparison: what the clients were told against what the database holds.
//! Every 201 a client saw exists; nothing exists that no client was told about, unless
//! that client never got a definite answer (then it exists at most once). Then
//! `zhijian check` over the whole database.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use zhijian::config::Config;
use zhijian::db::schema::{redemptions, vouchers};

use crate::common;
use crate::load::{Done, Op, Outcome};
use crate::scene::Scene;

fn connection(config: &Config) -> zhijian::db::DbPool {
    zhijian::db::connect(&config.database_url, 1).expect("the database is back")
}

/// `subject → outcomes` of the operations of one kind (claims or redemptions).
fn by_subject(done: &[Done], claims: bool) -> BTreeMap<String, Vec<Outcome>> {
    let mut map: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
    for d in done {
        if matches!(d.op, Op::Claim { .. }) == claims {
            map.entry(d.op.subject().to_owned())
                .or_default()
                .push(d.outcome.clone());
        }
    }
    map
}

/// Holds the claims of `done` against the vouchers of `campaign`: each claimant who was
/// told 201 holds exactly that voucher and no other; a refused claimant holds none; one
/// who never got a definite answer holds at most one; nobody else holds any.
pub fn claims_match(config: &Config, campaign: &str, done: &[Done]) {
    let pool = connection(config);
    let held: Vec<(String, String)> = vouchers::table
        .filter(vouchers::campaign_id.eq(campaign))
        .select((vouchers::user_id, vouchers::id))
        .load(&mut pool.get().unwrap())
        .unwrap();
    let mut holdings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (user, voucher) in held {
        holdings.entry(user).or_default().insert(voucher);
    }
    let told = by_subject(done, true);
    for (who, outcomes) in &told {
        let held = holdings.remove(who).unwrap_or_default();
        let created: BTreeSet<String> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Created(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        let unknown = outcomes.iter().filter(|o| **o == Outcome::Unknown).count();
        assert!(
            created.is_subset(&held),
            "{who} was told 201 for {created:?} but holds {held:?}"
        );
        assert!(
            held.len() <= created.len() + unknown,
            "{who} holds {held:?}, more than the {} vouchers it was told of ({outcomes:?})",
            created.len()
        );
        assert!(
            held.len() <= outcomes.len(),
            "{who} holds {held:?} from {} claims",
            outcomes.len()
        );
    }
    assert!(
        holdings.is_empty(),
        "vouchers nobody claimed in this burst: {holdings:?}"
    );
}

/// Holds the redemptions of `done` against the live redemptions of their vouchers: at
/// most one live redemption per voucher and at most one client told 201 for it; a 201's
/// redemption is the live one; a live one nobody was told of needs a client that never got
/// a definite answer.
pub fn redemptions_match(config: &Config, done: &[Done]) {
    let pool = connection(config);
    let told = by_subject(done, false);
    let vouchers: Vec<&String> = told.keys().collect();
    let live: Vec<(String, String)> = redemptions::table
        .filter(redemptions::voucher_id.eq_any(vouchers))
        .filter(redemptions::reversed_at.is_null())
        .select((redemptions::voucher_id, redemptions::id))
        .load(&mut pool.get().unwrap())
        .unwrap();
    let mut live_by_voucher: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (voucher, redemption) in live {
        live_by_voucher.entry(voucher).or_default().push(redemption);
    }
    for (voucher, outcomes) in &told {
        let live = live_by_voucher.get(voucher).cloned().unwrap_or_default();
        assert!(
            live.len() <= 1,
            "voucher {voucher} has {} live redemptions",
            live.len()
        );
        let created: Vec<&String> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Created(id) => Some(id),
                _ => None,
            })
            .collect();
        assert!(
            created.len() <= 1,
            "voucher {voucher}: two clients told 201: {outcomes:?}"
        );
        match (created.first(), live.first()) {
            (Some(told), Some(stored)) => assert_eq!(*told, stored, "voucher {voucher}"),
            (Some(told), None) => panic!("voucher {voucher}: redemption {told} was acknowledged and is gone"),
            (None, Some(stored)) => assert!(
                outcomes.contains(&Outcome::Unknown),
                "voucher {voucher}: redemption {stored} exists but every client was refused: {outcomes:?}"
            ),
            (None, None) => {}
        }
    }
}

/// Runs `zhijian check` on the database and requires exit 0.
pub fn check_passes(config: &Config) {
    let out = common::binary::zhijian(config).arg("check").output().unwrap();
    assert!(
        out.status.success(),
        "zhijian check failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the clients must have been told once the fault is over: every operation decided;
/// the campaign's units all claimed (or every claimant served) and every other claimant
/// told `SOLD_OUT`; every code redeemed for exactly one client, the others told
/// `ALREADY_REDEEMED`. So a service that never recovered cannot pass.
fn everyone_answered(scene: &Scene, done: &[Done]) {
    let undecided: Vec<&Done> = done.iter().filter(|d| d.outcome == Outcome::Unknown).collect();
    assert!(
        undecided.is_empty(),
        "{} operations never got an answer: {undecided:?}",
        undecided.len()
    );
    let claims: Vec<&Outcome> = done
        .iter()
        .filter(|d| matches!(d.op, Op::Claim { .. }))
        .map(|d| &d.outcome)
        .collect();
    let served = claims.iter().filter(|o| matches!(o, Outcome::Created(_))).count();
    let stock = usize::try_from(scene.size.stock).unwrap();
    assert_eq!(served, stock.min(scene.claims.len()), "claims served");
    for refused in claims.iter().filter(|o| !matches!(o, Outcome::Created(_))) {
        assert_eq!(**refused, Outcome::Refused("SOLD_OUT".into()));
    }
    for (voucher, outcomes) in by_subject(done, false) {
        let (won, lost): (Vec<&Outcome>, Vec<&Outcome>) =
            outcomes.iter().partition(|o| matches!(o, Outcome::Created(_)));
        assert_eq!(won.len(), 1, "voucher {voucher}: {outcomes:?}");
        assert!(
            lost.iter()
                .all(|o| **o == Outcome::Refused("ALREADY_REDEEMED".into())),
            "voucher {voucher}: {outcomes:?}"
        );
    }
}

/// The whole ending of a case: no 500 anywhere, everyone answered, both comparisons
/// with the database, and the checker.
pub fn settle(config: &Config, scene: &Scene, done: &[Done]) {
    let internal: usize = done
        .iter()
        .flat_map(|d| &d.seen)
        .filter(|s| s.label.starts_with("500"))
        .count();
    assert_eq!(
        internal, 0,
        "clients saw {internal} answers 500: faults must be 503s"
    );
    everyone_answered(scene, done);
    claims_match(config, &scene.campaign, done);
    redemptions_match(config, done);
    check_passes(config);
}
