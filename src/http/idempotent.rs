//! Runs a create-something handler under the `Idempotency-Key` contract.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::db::{self, DbConnection};
use crate::domain::ids::UserId;
use crate::domain::invalid::Invalid;
use crate::domain::now;
use crate::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::idempotency::{self, Begin, Fingerprint, IdempotencyKey};
use crate::state::AppState;

pub const HEADER: &str = "Idempotency-Key";

/// A keyed request: its key and its fingerprint.
#[derive(Debug)]
pub struct Keyed {
    key: IdempotencyKey,
    fingerprint: Fingerprint,
}

/// The request's key, if it sent one, with the request's `fingerprint` (computed only
/// then: an unkeyed request never pays for it). A malformed key is a 400.
pub fn keyed(
    req: &HttpRequest,
    fingerprint: impl FnOnce() -> Result<Fingerprint, ApiError>,
) -> Result<Option<Keyed>, ApiError> {
    key(req)?
        .map(|key| {
            Ok(Keyed {
                key,
                fingerprint: fingerprint()?,
            })
        })
        .transpose()
}

/// The request's key, if it sent one; a malformed one is a 400.
fn key(req: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    req.headers()
        .get(HEADER)
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(IdempotencyKey::parse)
                .ok_or_else(|| ApiError::from(Invalid::new(HEADER, "应为 1 到 255 个可见的 ASCII 字符")))
        })
        .transpose()
}

/// The fingerprint of an idempotent request, computed from the request as parsed: the
/// method, the matched route pattern, the path's ids (`path_ids`, canonical as parsed)
/// and the whole deserialized body, serialised again. Never a hand-built list of
/// fields, so a field added to a body type is part of the fingerprint without more code.
pub fn fingerprint<B: Serialize>(
    req: &HttpRequest,
    path_ids: &[&str],
    body: &B,
) -> Result<Fingerprint, ApiError> {
    let route = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let body = serde_json::to_value(body).map_err(ApiError::internal)?;
    let method = req.method().as_str();
    Ok(Fingerprint {
        current: idempotency::request_hash(method, &route, path_ids, &body),
        earlier: idempotency::request_hash(method, req.path(), &[], &body),
    })
}

/// Handed to the work so it can record its answer inside its own transaction.
#[derive(Debug, Clone)]
pub struct Ticket {
    who: UserId,
    key: IdempotencyKey,
    lease: chrono::NaiveDateTime,
}

impl Ticket {
    /// Records the answer in the work's transaction. 409 `IDEMPOTENCY_IN_FLIGHT` when a
    /// retry took the key over while this attempt stalled (a paused process): the work's
    /// transaction must then roll back, so the retry's effect is the only one.
    pub fn complete(&self, conn: &mut DbConnection, status: StatusCode, body: &str) -> Result<(), ApiError> {
        if idempotency::complete(conn, &self.who, &self.key, self.lease, status.as_u16(), body)? {
            Ok(())
        } else {
            Err(ErrorCode::IdempotencyInFlight.into())
        }
    }
}

fn replayed(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.as_u16() >= 400 {
        PROBLEM_JSON
    } else {
        "application/json"
    };
    HttpResponse::build(status)
        .content_type(content_type)
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body)
}

/// Runs `work` once per (principal, key, request). `work` gets the ticket when a key
/// was sent and must `complete` it in the transaction that makes its effect; its
/// answer is `(status, JSON body)`. A client error is stored and replayed as well; a
/// server error, 423 or 429 is forgotten so that a retry runs again. `restore` turns a stored
/// success body back into the original (claims store theirs without the code).
pub async fn run<F, Fut>(
    state: &AppState,
    who: &UserId,
    keyed: Option<Keyed>,
    restore: impl FnOnce(String) -> String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<Ticket>) -> Fut,
    Fut: Future<Output = Result<(StatusCode, String), ApiError>>,
{
    let respond = |(status, body): (StatusCode, String)| {
        HttpResponse::build(status)
            .content_type("application/json")
            .body(body)
    };
    let Some(Keyed { key, fingerprint }) = keyed else {
        return work(None).await.map(respond);
    };
    let begun = {
        let (who, key) = (who.clone(), key.clone());
        db::transaction(&state.pool, move |conn| {
            Ok::<_, ApiError>(idempotency::begin(conn, &who, &key, &fingerprint, now())?)
        })
        .await?
    };
    let lease = match begun {
        Begin::Proceed { lease } => lease,
        Begin::Replay { status, body } if status < 400 => return Ok(replayed(status, restore(body))),
        Begin::Replay { status, body } => return Ok(replayed(status, body)),
        Begin::InFlight => return Err(ErrorCode::IdempotencyInFlight.into()),
        Begin::Mismatch => return Err(ErrorCode::IdempotencyKeyReused.into()),
    };
    let ticket = Ticket {
        who: who.clone(),
        key,
        lease,
    };
    match work(Some(ticket.clone())).await {
        Ok(answer) => Ok(respond(answer)),
        Err(err) => {
            // Answers that only describe a passing moment are not kept: a retry runs again.
            let status_now = err.code().status();
            let server_side = status_now.is_server_error()
                || status_now == StatusCode::LOCKED
                || status_now == StatusCode::TOO_MANY_REQUESTS;
            let body = err.problem_body().to_string();
            let status = err.code().status();
            if err.code() == ErrorCode::IdempotencyInFlight {
                // Taken over by a retry: the record is the retry's now.
                state.metrics.idempotency_leases_lost.inc();
                return Err(err);
            }
            let recorded = db::transaction(&state.pool, move |conn| -> Result<(), ApiError> {
                if server_side {
                    Ok(idempotency::abandon(
                        conn,
                        &ticket.who,
                        &ticket.key,
                        ticket.lease,
                    )?)
                } else {
                    ticket.complete(conn, status, &body)
                }
            })
            .await;
            if let Err(e) = recorded {
                tracing::warn!(code = e.code().as_str(), "could not record an idempotent answer");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

    use super::fingerprint;
    use crate::app::redemptions::RedeemCommand;

    const STATION: &str = "0190f0c4-5a1b-7c2d-8e3f-405162738495";
    const OTHER_STATION: &str = "0190f0c4-5a1b-7c2d-8e3f-405162738496";

    fn print_of<B: Serialize>(body: &B) -> String {
        let req = TestRequest::post()
            .uri("/api/v1/counter/redemptions")
            .to_http_request();
        fingerprint(&req, &[], body).unwrap().current
    }

    fn redeem(v: Value) -> RedeemCommand {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_field_of_a_redemption_is_in_its_fingerprint() {
        let sample = json!({"code": "ABCD-EFGH-JKMN-PQRS", "station_id": STATION});
        // Another valid value for each field; a field added to `RedeemCommand` must be
        // listed here, or this test fails on the key check below.
        let other = json!({"code": "ABCD-EFGH-JKMN-PQRT", "station_id": OTHER_STATION});
        let serialised = serde_json::to_value(redeem(sample.clone())).unwrap();
        let keys: Vec<&String> = serialised.as_object().unwrap().keys().collect();
        assert_eq!(keys, other.as_object().unwrap().keys().collect::<Vec<_>>());
        let base = print_of(&redeem(sample.clone()));
        for key in keys {
            let mut changed = sample.clone();
            changed[key] = other[key].clone();
            assert_ne!(
                base,
                print_of(&redeem(changed)),
                "{key} is not in the fingerprint"
            );
        }
    }

    #[test]
    fn a_field_added_to_a_body_changes_the_fingerprint_without_more_code() {
        #[derive(Serialize, Deserialize)]
        struct WithNote {
            #[serde(flatten)]
            base: RedeemCommand,
            note: Option<String>,
        }
        let base = redeem(json!({"code": "ABCD-EFGH-JKMN-PQRS", "station_id": STATION}));
        let plain = print_of(&WithNote {
            base: base.clone(),
            note: None,
        });
        let noted = print_of(&WithNote {
            base,
            note: Some("窗口2".into()),
        });
        assert_ne!(plain, noted);
    }

    #[test]
    fn two_spellings_of_one_request_share_a_fingerprint() {
        let typed = redeem(json!({"code": "abcd efgh jkmn pqrs", "station_id": STATION.to_uppercase()}));
        let scanned = redeem(json!({"station_id": STATION, "code": "zhijian:v1:ABCDEFGHJKMNPQRS"}));
        assert_eq!(print_of(&typed), print_of(&scanned));
    }
}
