//! `Idempotency-Key` records are leases: an attempt presumed dead and taken over by a
//! retry can no longer record its answer, so its transaction rolls back and only the
//! retry's effect stays (the fault suite pauses a real instance past this window).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use chrono::Duration;
use common::*;
use zhijian::domain::ids::UserId;
use zhijian::idempotency::{self, Begin, Fingerprint, IdempotencyKey};

#[tokio::test]
async fn a_stalled_attempt_taken_over_by_a_retry_cannot_record_its_answer() {
    let app = spawn_app().await;
    let pool = zhijian::db::connect(&app.config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let who = UserId::generate();
    let key = IdempotencyKey::parse("retry-after-timeout").unwrap();
    let print = Fingerprint {
        current: "claim".into(),
        earlier: "claim-by-path".into(),
    };
    let start = zhijian::domain::now();
    let Begin::Proceed { lease: first } = idempotency::begin(&mut conn, &who, &key, &print, start).unwrap()
    else {
        panic!("the first attempt proceeds");
    };

    // A retry while the first still runs is told to wait.
    let soon = start + Duration::seconds(1);
    assert_eq!(
        idempotency::begin(&mut conn, &who, &key, &print, soon).unwrap(),
        Begin::InFlight
    );

    // Half a minute on, the first is presumed dead and the retry takes the key over.
    let soon_after = start + Duration::seconds(29);
    assert_eq!(
        idempotency::begin(&mut conn, &who, &key, &print, soon_after).unwrap(),
        Begin::InFlight
    );
    let later = start + Duration::seconds(31);
    let Begin::Proceed { lease: second } = idempotency::begin(&mut conn, &who, &key, &print, later).unwrap()
    else {
        panic!("a retry takes a stalled key over");
    };
    assert_ne!(first, second);

    // The first wakes up (a paused process): it may neither record nor forget the key.
    assert!(!idempotency::complete(&mut conn, &who, &key, first, 201, r#"{"by":"first"}"#).unwrap());
    idempotency::abandon(&mut conn, &who, &key, first).unwrap();
    assert!(idempotency::complete(&mut conn, &who, &key, second, 201, r#"{"by":"retry"}"#).unwrap());
    assert_eq!(
        idempotency::begin(&mut conn, &who, &key, &print, later + Duration::seconds(1)).unwrap(),
        Begin::Replay {
            status: 201,
            body: r#"{"by":"retry"}"#.into()
        }
    );
}
