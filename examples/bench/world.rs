//! The benchmark's world, written straight into the database (bulk statements, so a run
//! does not spend minutes in argon2 and HTTP set-up): a union, a station with its
//! counter, riders with sessions and access tokens, published courier campaigns, and the
//! pools the pgbench anchors draw from.

use diesel::prelude::*;
use zhijian::auth::jwt::JwtKeys;
use zhijian::db::DbConnection;
use zhijian::domain::campaigns::{self, CampaignFields, CampaignStatus};
use zhijian::domain::ids::{SessionId, StationId, UnionId, UserId};
use zhijian::domain::org::{self, NewStation, NewUnion, UnionKind};
use zhijian::domain::profile::Role;

pub const SECRET: &str = "bench-secret-that-is-at-least-32-bytes-long";
/// Every seeded account's password (the login storm signs in with it).
pub const PASSWORD: &str = "bench-password-42";

/// A rider the service knows: an access token and the phone to sign in with.
#[derive(Debug, Clone)]
pub struct Rider {
    pub token: String,
    pub phone: String,
}

pub struct World {
    pub union: UnionId,
    pub admin: UserId,
    pub station: StationId,
    /// Counter accounts at the station: (access token, session id).
    pub counters: Vec<(String, String)>,
    pub riders: Vec<Rider>,
}

fn now_sql(conn: &DbConnection) -> &'static str {
    match conn {
        DbConnection::Postgres(_) => "now()",
        DbConnection::Sqlite(_) => "CURRENT_TIMESTAMP",
    }
}

/// Inserts `rows` (SQL tuples) into `table (columns)` in statements of 500 rows.
fn insert_all(conn: &mut DbConnection, table: &str, columns: &str, rows: &[String]) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        diesel::sql_query(format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            chunk.join(",")
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// `n` accounts of `role` (riders: food delivery in 331004) with one session each, all
/// with `hash` as their password; phones start at `first_phone`.
fn accounts(
    conn: &mut DbConnection,
    role: Role,
    n: usize,
    first_phone: u64,
    hash: &str,
) -> anyhow::Result<Vec<(UserId, SessionId, String)>> {
    let now = now_sql(conn);
    let made: Vec<(UserId, SessionId, String)> = (0..n)
        .map(|i| {
            (
                UserId::generate(),
                SessionId::generate(),
                (first_phone + i as u64).to_string(),
            )
        })
        .collect();
    let (role_name, occupation, region) = match role {
        Role::Worker => ("worker", "'food_delivery'", "'331004'"),
        _ => ("counter", "NULL", "NULL"),
    };
    let users: Vec<String> = made
        .iter()
        .map(|(id, _, phone)| {
            format!("('{id}', '{phone}', '{hash}', '骑手', '{role_name}', {occupation}, {region}, false, false, {now}, {now})")
        })
        .collect();
    insert_all(
        conn,
        "users",
        "id, phone, password_hash, name, role, occupation, region_code, occupation_verified, hardship_archived, created_at, updated_at",
        &users,
    )?;
    let sessions: Vec<String> = made
        .iter()
        .map(|(u, s, _)| format!("('{s}', '{u}', {now})"))
        .collect();
    insert_all(conn, "sessions", "id, user_id, created_at", &sessions)?;
    Ok(made)
}

/// Refresh tokens for the sessions of `n` riders, one each (the refresh case): their
/// values, stored as the service stores its own (the SHA-256 of the value, in hex).
pub fn refresh_tokens(conn: &mut DbConnection, n: usize) -> anyhow::Result<Vec<String>> {
    use sha2::Digest;
    #[derive(QueryableByName)]
    struct Session {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let sessions: Vec<Session> = diesel::sql_query(format!(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.role = 'worker' ORDER BY s.id LIMIT {n}"
    ))
    .load(conn)?;
    let mut values = Vec::with_capacity(sessions.len());
    let mut rows = Vec::with_capacity(sessions.len());
    for session in sessions {
        let value = format!("zjr_bench_{}", uuid::Uuid::new_v4().simple());
        let hash = hex::encode(sha2::Sha256::digest(value.as_bytes()));
        rows.push(format!(
            "('{}', '{}', '{hash}', now(), now() + interval '30 days')",
            uuid::Uuid::new_v4(),
            session.id
        ));
        values.push(value);
    }
    insert_all(
        conn,
        "refresh_tokens",
        "id, session_id, token_hash, issued_at, expires_at",
        &rows,
    )?;
    Ok(values)
}

/// The union, its station and counter, and `riders` signed-in riders.
pub fn seed(conn: &mut DbConnection, riders: usize, hash: &str) -> anyhow::Result<World> {
    let now = zhijian::domain::now();
    let jwt = JwtKeys::new(SECRET.as_bytes());
    let admins = accounts(conn, Role::PlatformAdmin, 1, 13_900_000_000, hash)?;
    let admin = admins[0].0.clone();
    diesel::sql_query(format!(
        "UPDATE users SET role = 'platform_admin' WHERE id = '{admin}'"
    ))
    .execute(conn)?;
    let union = org::create_union(
        conn,
        NewUnion {
            name: "路桥区总工会".into(),
            parent: None,
            kind: UnionKind::District,
            region_code: "331004".into(),
            onsite_auto_approve: false,
            created_by: &admin,
        },
        now,
    )?;
    let station = StationId::generate();
    org::create_station(
        conn,
        &NewStation {
            id: station.clone(),
            union_id: union.id.clone(),
            name: "驿站".into(),
            address: None,
            lat: None,
            lng: None,
            open_24h: true,
            opening_hours: None,
            created_at: now,
        },
    )?;
    let mut counters = Vec::new();
    for (counter, session, _) in accounts(conn, Role::Counter, 64, 13_800_000_000, hash)? {
        diesel::sql_query(format!(
            "INSERT INTO staff_stations (user_id, station_id) VALUES ('{counter}', '{station}')"
        ))
        .execute(conn)?;
        counters.push((jwt.issue(&counter, Role::Counter, &session)?, session.to_string()));
    }
    let riders = accounts(conn, Role::Worker, riders, 13_700_000_000, hash)?
        .into_iter()
        .map(|(user, session, phone)| {
            Ok(Rider {
                token: jwt.issue(&user, Role::Worker, &session)?,
                phone,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let world = World {
        union: union.id,
        admin,
        station,
        counters,
        riders,
    };
    if matches!(conn, DbConnection::Postgres(_)) {
        history(conn, &world)?;
    }
    Ok(world)
}

/// PostgreSQL: the database as one that has run a campaign before (every rider claimed
/// and gave back a voucher of it last month), with its statistics known and nothing left
/// for the autovacuum to do while the first case runs (it otherwise took CPU from P1
/// alone). On a brand-new, empty `vouchers` table, PostgreSQL fixes the generic plans of
/// the prepared reads while the table is tiny, with table scans, until its first ANALYZE
/// (README, "Performance").
fn history(conn: &mut DbConnection, world: &World) -> anyhow::Result<()> {
    let riders = i64::try_from(world.riders.len())?;
    let past = campaign(conn, world, riders)?;
    // Cancelled vouchers hold no stock, so the campaign's books stay balanced.
    diesel::sql_query(format!(
        "INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at, cancelled_at)
         SELECT gen_random_uuid()::text, '{past}', id, 1, md5(random()::text) || md5(random()::text), 0, 'cancelled',
                now() - interval '30 days', now() + interval '7 days', now() - interval '29 days'
         FROM users WHERE role = 'worker'"
    ))
    .execute(conn)?;
    diesel::sql_query("VACUUM ANALYZE").execute(conn)?;
    Ok(())
}

/// A published campaign for couriers and riders of 3310xx with `stock` units, redeemable
/// at the world's station; its id.
pub fn campaign(conn: &mut DbConnection, world: &World, stock: i64) -> anyhow::Result<String> {
    let now = zhijian::domain::now();
    let rules = r#"[{"type":"occupation_in","values":["food_delivery","courier"]},{"type":"region_in","values":["3310"]}]"#;
    let fields = CampaignFields {
        title: "bench".into(),
        item_name: "礼包".into(),
        description: None,
        total_stock: stock,
        per_worker_limit: 1,
        claim_starts_at: now - chrono::Duration::hours(1),
        claim_ends_at: now + chrono::Duration::days(1),
        redeem_until: now + chrono::Duration::days(7),
        rules: rules.into(),
        voucher_valid_days: None,
        mode: Default::default(),
        fulfilment: Default::default(),
    };
    let c = campaigns::create(
        conn,
        &world.union,
        &fields,
        std::slice::from_ref(&world.station),
        None,
        &world.admin,
        now,
    )?;
    campaigns::transition(
        conn,
        &c.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
        now,
    )?;
    // Publication puts the whole stock in the shards (as the publish use case does).
    zhijian::domain::releases::release_all(conn, &c.id, now)?;
    Ok(c.id.to_string())
}

/// PostgreSQL only: `workers` riders for pgbench (`bench_workers (n, session_id)` and the
/// sequence `bench_worker_seq` that hands each transaction the next one), and `codes`
/// issued vouchers of `campaign` held by them (`bench_codes (n, code_hash)`, sequence
/// `bench_code_seq`).
pub fn pgbench_pools(
    conn: &mut DbConnection,
    workers: usize,
    campaign: &str,
    codes: usize,
    hash: &str,
) -> anyhow::Result<()> {
    let statements = [
        format!(
            "INSERT INTO users (id, phone, password_hash, name, role, occupation, region_code, occupation_verified, hardship_archived, created_at, updated_at)
             SELECT gen_random_uuid()::text, (13600000000 + n)::text, '{hash}', '骑手', 'worker', 'food_delivery', '331004', false, false, now(), now()
             FROM generate_series(1, {workers}) n"
        ),
        "CREATE TABLE bench_workers (n BIGINT PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL)".into(),
        "INSERT INTO bench_workers SELECT (phone::bigint - 13600000000), id, gen_random_uuid()::text FROM users WHERE phone LIKE '136%'".into(),
        "INSERT INTO sessions (id, user_id, created_at) SELECT session_id, user_id, now() FROM bench_workers".into(),
        "CREATE SEQUENCE bench_worker_seq".into(),
        "CREATE TABLE bench_codes (n BIGINT PRIMARY KEY, code_hash TEXT NOT NULL)".into(),
        format!("INSERT INTO bench_codes SELECT n, md5('code' || n) FROM generate_series(1, {codes}) n"),
        format!(
            "INSERT INTO vouchers (id, campaign_id, user_id, claim_no, code_hash, stock_shard, status, issued_at, expires_at)
             SELECT gen_random_uuid()::text, '{campaign}', b.user_id, 1, c.code_hash, 0, 'issued', now(), now() + interval '7 days'
             FROM bench_codes c JOIN bench_workers b ON b.n = c.n"
        ),
        "CREATE SEQUENCE bench_code_seq".into(),
        "ANALYZE".into(),
    ];
    anyhow::ensure!(codes <= workers, "one code per pgbench worker");
    for statement in statements {
        diesel::sql_query(statement).execute(conn)?;
    }
    Ok(())
}
