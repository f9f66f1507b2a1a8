//! Join codes: a worker's consent to an on-site join (contract v1.1, "Organisation
//! rules tightened"). The app shows 8 digits, valid ten minutes, usable once; the
//! database keeps only a keyed hash, so a dump reveals no live code.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use unicode_normalization::UnicodeNormalization;

use crate::db::is_unique_violation;
use crate::db::schema::join_codes;
use crate::db::DbConnection;
use crate::domain::ids::UserId;
use crate::domain::voucher_code::VoucherKeys;

/// How long a join code works after it is shown.
pub const VALID_FOR_MINUTES: i64 = 10;
const LABEL: &str = "join-code:";

/// A code as a person types it: 8 digits, spaces and dashes ignored.
pub fn normalise(raw: &str) -> Option<String> {
    // NFKC folds full-width digits (１２３) into ASCII ones.
    let digits: String = raw
        .nfkc()
        .filter(|c| !(c.is_whitespace() || *c == '-' || crate::domain::text::is_invisible(*c)))
        .collect();
    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Issues a fresh code for `worker`; returns it (shown once) with its expiry. Call
/// inside a write transaction.
pub fn issue(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    worker: &UserId,
    now: NaiveDateTime,
) -> QueryResult<(String, NaiveDateTime)> {
    let expires_at = now + Duration::minutes(VALID_FOR_MINUTES);
    // A clash with another live code is rare (10^8 values); draw again when it happens.
    let mut attempt = 0;
    loop {
        let code = format!("{:08}", rand::rngs::OsRng.gen_range(0..100_000_000u32));
        let inserted = diesel::insert_into(join_codes::table)
            .values((
                join_codes::code_hash.eq(keys.tag(LABEL, &code)),
                join_codes::user_id.eq(worker),
                join_codes::created_at.eq(now),
                join_codes::expires_at.eq(expires_at),
            ))
            .execute(conn);
        match inserted {
            Ok(_) => return Ok((code, expires_at)),
            Err(e) if is_unique_violation(&e) && attempt < 5 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Uses a code: the worker it names, once, while it is valid. Unknown, used and expired
/// codes are all `None`. The conditional update is the fence: of two counters sending
/// one code, one gets the worker.
pub fn consume(
    conn: &mut DbConnection,
    keys: &VoucherKeys,
    code: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<UserId>> {
    diesel::update(
        join_codes::table
            .find(keys.tag(LABEL, code))
            .filter(join_codes::used_at.is_null())
            .filter(join_codes::expires_at.gt(now)),
    )
    .set(join_codes::used_at.eq(now))
    .returning(join_codes::user_id)
    .get_result(conn)
    .optional()
}
