//! The lock and limit service, in-process and (when configured) against real Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]
mod common;

use std::time::Duration;

use zhijian::locks::Locks;

async fn implementations() -> Vec<Locks> {
    let mut all = vec![Locks::in_process()];
    if let Some(url) = common::redis_url() {
        let prefix = format!("zj-test:{}:", uuid::Uuid::new_v4().simple());
        all.push(Locks::redis(&url, &prefix).await.expect("Redis is reachable"));
    }
    all
}

#[tokio::test]
async fn only_one_of_many_concurrent_takers_gets_the_lock() {
    for locks in implementations().await {
        let takers = (0..32).map(|_| {
            let locks = locks.clone();
            tokio::spawn(async move {
                locks
                    .try_acquire("voucher:1", Duration::from_secs(5))
                    .await
                    .unwrap()
            })
        });
        let leases: Vec<_> = futures_util::future::join_all(takers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            leases.iter().filter(|l| l.is_some()).count(),
            1,
            "{}",
            locks.kind()
        );
    }
}

#[tokio::test]
async fn a_lock_expires_after_its_ttl() {
    for locks in implementations().await {
        let first = locks.try_acquire("k", Duration::from_millis(1000)).await.unwrap();
        assert!(first.is_some());
        assert!(locks
            .try_acquire("k", Duration::from_secs(5))
            .await
            .unwrap()
            .is_none());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let second = locks.try_acquire("k", Duration::from_secs(5)).await.unwrap();
        assert!(second.is_some(), "{}", locks.kind());
        // The expired holder cannot release its successor's lock.
        assert!(!locks.release(&first.unwrap()).await.unwrap());
        assert!(locks
            .try_acquire("k", Duration::from_secs(5))
            .await
            .unwrap()
            .is_none());
        assert!(locks.release(&second.unwrap()).await.unwrap());
        assert!(locks
            .try_acquire("k", Duration::from_secs(5))
            .await
            .unwrap()
            .is_some());
    }
}

#[tokio::test]
async fn release_is_only_for_the_holder() {
    for locks in implementations().await {
        let lease = locks
            .try_acquire("a", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        let other = locks
            .try_acquire("b", Duration::from_secs(5))
            .await
            .unwrap()
            .unwrap();
        assert!(locks.release(&lease).await.unwrap());
        assert!(
            !locks.release(&lease).await.unwrap(),
            "a second release is refused"
        );
        assert!(locks
            .try_acquire("b", Duration::from_secs(5))
            .await
            .unwrap()
            .is_none());
        assert!(locks.release(&other).await.unwrap());
    }
}

#[tokio::test]
async fn counters_count_within_a_window_then_reset() {
    for locks in implementations().await {
        for expected in 1..=3 {
            let hits = locks.hit("rl:x", Duration::from_millis(2000)).await.unwrap();
            assert_eq!(hits.count, expected, "{}", locks.kind());
            assert!(hits.resets_in <= Duration::from_millis(2000));
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(
            locks
                .hit("rl:x", Duration::from_millis(2000))
                .await
                .unwrap()
                .count,
            1
        );
        locks.clear("rl:x").await.unwrap();
        assert_eq!(locks.hit("rl:x", Duration::from_secs(1)).await.unwrap().count, 1);
        locks.ping().await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_hits_are_all_counted() {
    for locks in implementations().await {
        let hits = (0..50).map(|_| {
            let locks = locks.clone();
            tokio::spawn(async move {
                locks
                    .hit("rl:burst", Duration::from_secs(10))
                    .await
                    .unwrap()
                    .count
            })
        });
        let mut counts: Vec<u64> = futures_util::future::join_all(hits)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        counts.sort_unstable();
        assert_eq!(counts, (1..=50).collect::<Vec<_>>(), "{}", locks.kind());
    }
}

#[tokio::test]
async fn a_guess_and_a_lock_are_taken_together_and_given_back_together() {
    let (window, ttl) = (Duration::from_secs(60), Duration::from_secs(5));
    for locks in implementations().await {
        let kind = locks.kind();
        let (hits, first) = locks.hit_and_acquire(("guesses", window, 10), "code", ttl).await;
        assert_eq!(hits.count, 1, "{kind}");
        let first = first.unwrap().expect("the lock was free");
        let (hits, second) = locks.hit_and_acquire(("guesses", window, 10), "code", ttl).await;
        assert_eq!(hits.count, 2, "{kind}");
        assert!(second.unwrap().is_none(), "{kind}: the first holds it");
        // The first named a voucher: its guess is given back with its lock.
        locks
            .release_and_refund(Some(&first), Some("guesses"))
            .await
            .unwrap();
        assert_eq!(locks.peek("guesses").await.unwrap().count, 1, "{kind}");
        let (hits, third) = locks.hit_and_acquire(("guesses", window, 10), "code", ttl).await;
        assert_eq!(hits.count, 2, "{kind}");
        let third = third.unwrap().expect("released");
        // A refund never creates a counter nor takes one below zero.
        locks
            .release_and_refund(Some(&third), Some("absent"))
            .await
            .unwrap();
        // Created at -1, the first hit would count 0.
        let hit = locks.hit("absent", window).await.unwrap();
        assert_eq!(hit.count, 1, "{kind}");
        // Over the budget the lock is not even tried.
        let (hits, over) = locks.hit_and_acquire(("guesses", window, 2), "code", ttl).await;
        assert_eq!(hits.count, 3, "{kind}");
        assert!(over.unwrap().is_none(), "{kind}");
        let free = locks.try_acquire("code", ttl).await.unwrap();
        assert!(free.is_some(), "{kind}: left free");
    }
}

#[tokio::test]
async fn a_lapsed_lease_gives_back_its_guess_but_not_the_next_holders_lock() {
    let window = Duration::from_secs(60);
    for locks in implementations().await {
        let kind = locks.kind();
        let (_, lapsed) = locks
            .hit_and_acquire(("guesses", window, 10), "code", Duration::from_millis(300))
            .await;
        let lapsed = lapsed.unwrap().expect("the lock was free");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, next) = locks
            .hit_and_acquire(("guesses", window, 10), "code", Duration::from_secs(5))
            .await;
        assert!(
            next.unwrap().is_some(),
            "{kind}: the lapsed lease no longer holds it"
        );
        locks
            .release_and_refund(Some(&lapsed), Some("guesses"))
            .await
            .unwrap();
        assert_eq!(locks.peek("guesses").await.unwrap().count, 1, "{kind}");
        let (_, again) = locks
            .hit_and_acquire(("other", window, 10), "code", Duration::from_secs(5))
            .await;
        assert!(again.unwrap().is_none(), "{kind}: the next holder keeps it");
    }
}
