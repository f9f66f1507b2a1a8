//! How long an allocation (精准发放) of many admitted workers takes, in batches, on either
//! backend: a subtree of BENCH_MEMBERS members of whom BENCH_ADMITTED are on the hardship
//! register, an allocate campaign of exactly that stock, then publication's check
//! (`allocation::prepare`) and the pass (`allocation::run`) timed separately, with the
//! process's peak resident memory and a check of one voucher per admitted worker.
//!
//!     cargo run --release --example allocation_bench -- sqlite|postgres
//!
//! Environment: BENCH_DATABASE_URL (PostgreSQL administrative URL; a fresh database is
//! created), BENCH_MEMBERS (default 12000), BENCH_ADMITTED (10000), ALLOCATION_BATCH_SIZE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss
)]

use std::time::Instant;

use diesel::prelude::*;
use zhijian::app::allocation::{self, Plan};
use zhijian::db::{self, DatabaseUrl, DbConnection};
use zhijian::domain::campaigns::{self, CampaignFields, CampaignMode, CampaignStatus, Fulfilment};
use zhijian::domain::ids::{CampaignId, UserId};
use zhijian::domain::org::{self, NewUnion, UnionKind};
use zhijian::domain::phone::Phone;
use zhijian::domain::profile::Role;
use zhijian::domain::rules::Rule;
use zhijian::domain::users::{self, NewUser};
use zhijian::domain::voucher_code::VoucherKeys;

const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3zDUK3bZ9pG2MEqCjmy2KA3x6vI4cTGiTSRaQtHLMmY";

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process, from /proc (kB).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The subtree and its members, and the draft allocate campaign.
fn seed(conn: &mut DbConnection, members: usize, admitted: usize) -> anyhow::Result<(CampaignId, UserId)> {
    let now = zhijian::domain::now();
    let admin = NewUser::new(
        Phone::parse("13900000000").unwrap(),
        HASH.into(),
        "admin".into(),
        Role::PlatformAdmin,
        now,
    );
    users::create(conn, &admin)?;
    let union = org::create_union(
        conn,
        NewUnion {
            name: "路桥区总工会".into(),
            parent: None,
            kind: UnionKind::District,
            region_code: "331004".into(),
            onsite_auto_approve: false,
            created_by: &admin.id,
        },
        now,
    )?;
    for i in 0..members {
        let mut user = NewUser::new(
            Phone::parse(&format!("137{i:08}")).unwrap(),
            HASH.into(),
            "职工".into(),
            Role::Worker,
            now,
        );
        // Spread the register through the members, as it would be.
        user.hardship_archived = i * admitted / members != (i + 1) * admitted / members;
        users::create(conn, &user)?;
        zhijian::domain::membership::open(conn, &user.id, &union.id, now, now)?;
    }
    let station = org::NewStation {
        id: zhijian::domain::ids::StationId::generate(),
        union_id: union.id.clone(),
        name: "驿站".into(),
        address: None,
        lat: None,
        lng: None,
        open_24h: true,
        opening_hours: None,
        created_at: now,
    };
    org::create_station(conn, &station)?;
    let fields = CampaignFields {
        title: "米面油".into(),
        item_name: "米面油".into(),
        description: None,
        total_stock: admitted as i64,
        per_worker_limit: 1,
        claim_starts_at: now,
        claim_ends_at: now + chrono::Duration::days(30),
        redeem_until: now + chrono::Duration::days(60),
        rules: serde_json::to_string(&[Rule::HardshipArchived {}])?,
        voucher_valid_days: None,
        mode: CampaignMode::Allocate,
        fulfilment: Fulfilment::Delivery,
    };
    let c = campaigns::create(conn, &union.id, &fields, &[station.id], None, &admin.id, now)?;
    Ok((c.id, admin.id))
}

fn main() -> anyhow::Result<()> {
    let backend = std::env::args().nth(1).unwrap_or_else(|| "sqlite".into());
    let members: usize = env("BENCH_MEMBERS", 12_000);
    let admitted: usize = env("BENCH_ADMITTED", 10_000);
    let plan = Plan {
        batch_size: env("ALLOCATION_BATCH_SIZE", 500),
        abort_after_batches: None,
    };
    let dir = tempfile::tempdir()?;
    let url = if backend == "postgres" {
        let admin_url = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("zj_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        DatabaseUrl::Postgres(format!("{base}/{name}?sslmode=disable"))
    } else {
        DatabaseUrl::Sqlite(dir.path().join("bench.db").to_string_lossy().into_owned())
    };
    let pool = db::connect(&url, 2)?;
    let mut conn = pool.get()?;
    db::migrate(&mut conn).map_err(anyhow::Error::msg)?;
    let keys = VoucherKeys::new(b"bench-voucher-key-that-is-at-least-32-bytes");
    zhijian::domain::audit::use_key(&keys);
    let (id, admin) = db::write_tx(&mut conn, |c| seed(c, members, admitted))?;
    let before = peak_rss_kb();
    let now = zhijian::domain::now();

    let started = Instant::now();
    let (_, generation) = db::write_tx(&mut conn, |c| {
        campaigns::transition(c, &id, &[CampaignStatus::Draft], CampaignStatus::Published, now)?;
        let campaign = campaigns::find(c, &id)?.unwrap();
        Ok::<_, anyhow::Error>(allocation::prepare(c, &campaign, now)?)
    })?;
    let checked = started.elapsed();
    let started = Instant::now();
    let issued = allocation::run(&mut conn, &id, &keys, plan, Some(&admin), generation, now)?;
    let ran = started.elapsed();

    let (vouchers, holders): (i64, i64) = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS d FROM vouchers WHERE campaign_id = '{id}'"
    ))
    .get_result::<Counts>(&mut conn)
    .map(|c| (c.n, c.d))?;
    assert_eq!(
        (vouchers, holders),
        (admitted as i64, admitted as i64),
        "one voucher per admitted worker"
    );
    assert_eq!(issued, admitted as i64);
    println!(
        "{backend}: {members} members, {admitted} admitted, batches of {}: publication check {:.2} s, \
         allocation {:.2} s ({:.0} vouchers/s, each with its notification, event and audit entry); \
         {vouchers} vouchers, {holders} holders; peak RSS {} MB before, {} MB after",
        plan.batch_size,
        checked.as_secs_f64(),
        ran.as_secs_f64(),
        admitted as f64 / ran.as_secs_f64(),
        before / 1024,
        peak_rss_kb() / 1024,
    );
    Ok(())
}

#[derive(QueryableByName)]
struct Counts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    d: i64,
}
