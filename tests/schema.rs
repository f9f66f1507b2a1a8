//! `src/db/schema.rs` is written by hand for both backends; this checks it against what
//! the migrations really build, on the backend under test (SQLite by default, PostgreSQL
//! with `ZHIJIAN_TEST_DATABASE_URL`): the same tables, the same columns, each with a
//! matching type and nullability.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use zhijian::db::DatabaseUrl;

/// table → column → (diesel type without `Nullable`, nullable)
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// Reads the `diesel::table!` blocks of `schema.rs`: a `name (keys) {` line opens a
/// table, `column -> Type,` lines follow, a lone `}` closes it.
fn declared() -> Columns {
    let source = include_str!("../src/db/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some(table) = &current {
            if line == "}" {
                current = None;
            } else if let Some((column, ty)) = line.trim_end_matches(',').split_once(" -> ") {
                let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                    Some(inner) => (inner, true),
                    None => (ty, false),
                };
                let columns = tables.get_mut(table).expect("table opened");
                columns.insert(column.trim().to_owned(), (ty.trim().to_owned(), nullable));
            }
        } else if let Some((name, _)) = line.strip_suffix('{').and_then(|l| l.split_once(" (")) {
            if !name.contains(' ') && !name.contains('!') {
                current = Some(name.to_owned());
                tables.insert(name.to_owned(), BTreeMap::new());
            }
        }
    }
    assert!(
        tables.len() >= 10,
        "schema.rs parsed into too few tables: {tables:?}"
    );
    tables
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    r#type: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// What the migrated database holds, with each type named as `schema.rs` names it.
fn migrated(url: &DatabaseUrl) -> Columns {
    let mut tables = Columns::new();
    match url {
        DatabaseUrl::Postgres(url) => {
            let mut conn = PgConnection::establish(url).unwrap();
            let rows: Vec<PgColumn> = diesel::sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                 data_type::text AS data_type, is_nullable::text AS is_nullable \
                 FROM information_schema.columns WHERE table_schema = 'public'",
            )
            .load(&mut conn)
            .unwrap();
            for c in rows.into_iter().filter(|c| c.table_name != MIGRATIONS_TABLE) {
                let ty = match c.data_type.as_str() {
                    "text" => "Text",
                    "bigint" => "BigInt",
                    "integer" => "Integer",
                    "boolean" => "Bool",
                    "timestamp without time zone" => "Timestamp",
                    "double precision" => "Double",
                    other => panic!("{}.{}: unmapped type {other}", c.table_name, c.column_name),
                };
                let entry = (ty.to_owned(), c.is_nullable == "YES");
                tables
                    .entry(c.table_name)
                    .or_default()
                    .insert(c.column_name, entry);
            }
        }
        DatabaseUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path).unwrap();
            let rows: Vec<SqliteColumn> = diesel::sql_query(
                "SELECT m.name AS table_name, p.name AS name, p.type AS type, p.\"notnull\" AS \"notnull\", \
                 p.pk AS pk FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .load(&mut conn)
            .unwrap();
            for c in rows.into_iter().filter(|c| c.table_name != MIGRATIONS_TABLE) {
                let ty = match c.r#type.to_ascii_uppercase().as_str() {
                    "TEXT" => "Text",
                    "BIGINT" => "BigInt",
                    // SQLite integers are 64-bit whatever they are declared as; the
                    // comparison below accepts either diesel integer type for them.
                    "INTEGER" => "Integer",
                    "BOOLEAN" => "Bool",
                    "TIMESTAMP" => "Timestamp",
                    "REAL" | "DOUBLE PRECISION" => "Double",
                    other => panic!("{}.{}: unmapped type {other}", c.table_name, c.name),
                };
                // SQLite lets a non-INTEGER primary key hold NULL unless told otherwise;
                // every key we write is generated, so a key column counts as NOT NULL.
                let nullable = c.notnull == 0 && c.pk == 0;
                tables
                    .entry(c.table_name)
                    .or_default()
                    .insert(c.name, (ty.to_owned(), nullable));
            }
        }
    }
    tables
}

fn same_type(declared: &str, found: &str, sqlite: bool) -> bool {
    declared == found || (sqlite && declared == "BigInt" && found == "Integer")
}

#[tokio::test]
async fn schema_rs_matches_the_migrated_database() {
    let (config, _dir) = common::fresh_config();
    let url = config.database_url.clone();
    let found = tokio::task::spawn_blocking(move || {
        let pool = zhijian::db::connect(&url, 1).unwrap();
        zhijian::db::migrate(&mut pool.get().unwrap()).unwrap();
        migrated(&url)
    })
    .await
    .unwrap();
    let sqlite = !config.database_url.is_postgres();
    let declared = declared();
    let mut problems = Vec::new();
    for table in declared.keys().chain(found.keys()) {
        let (Some(want), Some(have)) = (declared.get(table), found.get(table)) else {
            problems.push(format!(
                "table {table}: in only one of schema.rs and the database"
            ));
            continue;
        };
        for column in want.keys().chain(have.keys()) {
            match (want.get(column), have.get(column)) {
                (Some((wt, wn)), Some((ht, hn))) if same_type(wt, ht, sqlite) && wn == hn => {}
                (w, h) => problems.push(format!("{table}.{column}: schema.rs {w:?}, database {h:?}")),
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "schema.rs and the migrations disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_parser_reads_every_table_of_schema_rs() {
    let tables = declared();
    assert_eq!(tables["vouchers"]["status"], ("Text".to_owned(), false));
    assert_eq!(
        tables["redemptions"]["reversed_at"],
        ("Timestamp".to_owned(), true)
    );
    assert!(!tables["vouchers"].contains_key("redeemed_at"));
}
