//! The PostgreSQL listener behind `SessionCache`: one connection per instance, on a thread
//! of its own, that turns each announcement on `zhijian_sessions` into a forgotten user.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::session_cache::{SessionCache, CHANNEL};
use crate::domain::ids::UserId;

/// How often announcements are read (they wait in the socket meanwhile).
const POLL: Duration = Duration::from_millis(20);
/// How often the listener sends itself a notification, to prove announcements arrive.
const PROVE: Duration = Duration::from_millis(500);
/// The wait before connecting again.
const RETRY: Duration = Duration::from_secs(1);

/// Starts the listener for `cache` on `url` (PostgreSQL). The thread ends once the cache
/// is dropped (the app stopped).
pub fn spawn(url: String, cache: &Arc<SessionCache>) -> std::io::Result<()> {
    let weak = Arc::downgrade(cache);
    std::thread::Builder::new()
        .name("session-listener".into())
        .spawn(move || run(&url, &weak))
        .map(|_| ())
}

fn run(url: &str, weak: &Weak<SessionCache>) {
    while weak.strong_count() > 0 {
        match PgConnection::establish(url) {
            Ok(mut conn) => {
                if listen(&mut conn, weak).is_err() {
                    tracing::warn!("session listener lost its connection; session checks go to the database");
                }
            }
            Err(_) => tracing::warn!("session listener cannot connect; session checks go to the database"),
        }
        if let Some(cache) = weak.upgrade() {
            cache.set_live(false);
        }
        std::thread::sleep(RETRY);
    }
}

/// Listens until the connection fails or the cache is gone. Besides the announcements,
/// it listens on a channel of its own and notifies it every `PROVE`: hearing itself is the
/// proof (`SessionCache::proved`) that announcements reach this connection, which a hung
/// connection or a pooler in transaction mode would fail.
fn listen(conn: &mut PgConnection, weak: &Weak<SessionCache>) -> diesel::QueryResult<()> {
    let own = format!("zhijian_alive_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(conn)?;
    diesel::sql_query(format!("LISTEN {own}")).execute(conn)?;
    match weak.upgrade() {
        Some(cache) => cache.set_live(true),
        None => return Ok(()),
    }
    let mut sent = Instant::now() - PROVE;
    loop {
        if sent.elapsed() >= PROVE {
            diesel::sql_query(format!("NOTIFY {own}")).execute(conn)?;
            sent = Instant::now();
        }
        let Some(cache) = weak.upgrade() else {
            return Ok(());
        };
        for note in conn.notifications_iter() {
            let note = note?;
            if note.channel == own {
                cache.proved();
            } else {
                match UserId::parse(&note.payload) {
                    Some(user) => cache.forget(&user),
                    None => cache.forget_all(),
                }
            }
        }
        drop(cache);
        std::thread::sleep(POLL);
    }
}
