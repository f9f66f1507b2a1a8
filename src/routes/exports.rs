//! CSV exports for the office and its auditors: a campaign's vouchers and redemptions,
//! a union's members. Authorized before the first byte; then streamed a page at a time.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use futures_util::stream;

use crate::auth::scope::AdminScope;
use crate::auth::Principal;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::exports::{self, PAGE};
use crate::domain::ids::{CampaignId, MembershipId, RedemptionId, UnionId, UserId, VoucherId};
use crate::domain::now;
use crate::domain::phone::mask_name;
use crate::domain::rules::occupation_label;
use crate::domain::vouchers::VoucherState;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::csv::{self, time, time_opt, yes_no};

type Rows<C> = (Vec<Vec<String>>, Option<C>);

/// Streams `header` then the pages `fetch` returns until it gives no next cursor. A
/// failure mid-way ends the file early (logged); the status line has been sent by then.
fn csv_response<C, F>(pool: DbPool, filename: String, header: &'static str, fetch: F) -> HttpResponse
where
    C: Send + 'static,
    F: Fn(&mut DbConnection, Option<&C>) -> diesel::QueryResult<Rows<C>> + Clone + Send + 'static,
{
    let head = [
        csv::BOM,
        &csv::encode(vec![header.split(',').map(str::to_owned).collect()]),
    ]
    .concat();
    let pages = stream::unfold(Some(None::<C>), move |state| {
        let (pool, fetch) = (pool.clone(), fetch.clone());
        async move {
            let cursor = state?;
            let page = db::run(&pool, move |conn| {
                Ok::<_, ApiError>(fetch(conn, cursor.as_ref())?)
            })
            .await;
            match page {
                Ok((rows, next)) => Some((
                    Ok::<_, actix_web::Error>(Bytes::from(csv::encode(rows))),
                    next.map(Some),
                )),
                // An error chunk aborts the chunked response, so a cut-off file never
                // looks complete.
                Err(e) => {
                    tracing::error!(code = e.code().as_str(), "export stopped early");
                    let failed = actix_web::error::ErrorServiceUnavailable("export interrupted");
                    Some((Err(failed), None))
                }
            }
        }
    });
    let first = stream::once(async move { Ok::<_, actix_web::Error>(Bytes::from(head)) });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename)],
        })
        .streaming(futures_util::StreamExt::chain(first, pages))
}

/// The cursor after a page: the last key when the page was full.
fn next<C: Clone, R>(rows: &[R], key: impl Fn(&R) -> &C) -> Option<C> {
    (rows.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
        .then(|| rows.last().map(|r| key(r).clone()))
        .flatten()
}

fn status_label(state: VoucherState) -> String {
    match state {
        VoucherState::Issued => "待核销",
        VoucherState::Redeemed => "已核销",
        VoucherState::Expired => "已过期",
        VoucherState::Cancelled => "已退回",
        VoucherState::Revoked => "已作废",
    }
    .to_owned()
}

/// A campaign export: the campaign checked against the admin's scope before the first
/// byte, then `make(campaign, title, item)`'s pages streamed.
async fn campaign_csv<C, F>(
    state: &AppState,
    principal: Principal,
    id: CampaignId,
    kind: &str,
    header: &'static str,
    make: impl FnOnce(CampaignId, String, String) -> F,
) -> Result<HttpResponse, ApiError>
where
    C: Send + 'static,
    F: Fn(&mut DbConnection, Option<&C>) -> diesel::QueryResult<Rows<C>> + Clone + Send + 'static,
{
    let campaign = id.clone();
    let (title, item) = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        let (c, _) = scope.campaign(conn, &campaign)?;
        Ok::<_, ApiError>((c.title, c.item_name))
    })
    .await?;
    let filename = format!("{kind}-{id}.csv");
    Ok(csv_response(
        state.pool.clone(),
        filename,
        header,
        make(id, title, item),
    ))
}

const VOUCHER_HEADER: &str = "券ID,活动,物品,持有人,手机号,会员号,状态,领取时间,有效期至,核销时间,核销驿站";

fn voucher_cells(r: exports::VoucherRow, at: chrono::NaiveDateTime, title: &str, item: &str) -> Vec<String> {
    let (v, status, issued, expires, name, phone, no, redeemed, station) = r;
    vec![
        v.to_string(),
        title.to_owned(),
        item.to_owned(),
        mask_name(&name),
        phone.masked(),
        no.unwrap_or_default(),
        status_label(status.seen_at(expires, at)),
        time(issued),
        time(expires),
        time_opt(redeemed),
        station.unwrap_or_default(),
    ]
}

pub async fn vouchers(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    campaign_csv(
        &state,
        principal,
        id.into_inner(),
        "vouchers",
        VOUCHER_HEADER,
        |id, title, item| {
            move |conn: &mut DbConnection, after: Option<&VoucherId>| {
                let at = now(); // one instant for the page, not one per row
                let rows = exports::vouchers(conn, &id, after)?;
                let cursor = next(&rows, |r| &r.0);
                let cells = rows
                    .into_iter()
                    .map(|r| voucher_cells(r, at, &title, &item))
                    .collect();
                Ok((cells, cursor))
            }
        },
    )
    .await
}

const REDEMPTION_HEADER: &str = "核销ID,券ID,活动,物品,持有人,手机号,驿站,核销人,核销时间,冲正时间,冲正原因";

fn redemption_cells(r: exports::RedemptionRow, counter: String, title: &str, item: &str) -> Vec<String> {
    let (id, voucher, name, phone, station, _, at, reversed, reason) = r;
    vec![
        id.to_string(),
        voucher.to_string(),
        title.to_owned(),
        item.to_owned(),
        mask_name(&name),
        phone.masked(),
        station,
        counter,
        time(at),
        time_opt(reversed),
        reason.unwrap_or_default(),
    ]
}

pub async fn redemptions(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<CampaignId>,
) -> Result<HttpResponse, ApiError> {
    campaign_csv(
        &state,
        principal,
        id.into_inner(),
        "redemptions",
        REDEMPTION_HEADER,
        |id, title, item| {
            move |conn: &mut DbConnection, after: Option<&RedemptionId>| {
                let rows = exports::redemptions(conn, &id, after)?;
                let cursor = next(&rows, |r| &r.0);
                let counters: Vec<UserId> = rows.iter().map(|r| r.5.clone()).collect();
                let names = exports::names(conn, &counters)?;
                let name_of = |u: &UserId| {
                    let found = names.iter().find(|(id, _)| id == u);
                    found.map(|(_, n)| n.clone()).unwrap_or_default()
                };
                let cells = rows
                    .into_iter()
                    .map(|r| {
                        let counter = name_of(&r.5);
                        redemption_cells(r, counter, &title, &item)
                    })
                    .collect();
                Ok((cells, cursor))
            }
        },
    )
    .await
}

const MEMBER_HEADER: &str = "会员号,姓名,手机号,工会,职业,地区,入会时间,困难职工,职业已核验";

/// Members of the union and the unions under it.
pub async fn members(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<UnionId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let union = id.clone();
    let path = db::run(&state.pool, move |conn| {
        let scope = AdminScope::load(conn, &principal)?;
        Ok::<_, ApiError>(scope.union(conn, &union)?.path)
    })
    .await?;
    let filename = format!("members-{id}.csv");
    Ok(csv_response(
        state.pool.clone(),
        filename,
        MEMBER_HEADER,
        move |conn, after: Option<&MembershipId>| {
            let rows = exports::members(conn, &path, after)?;
            let cursor = next(&rows, |r| &r.0);
            let cells = rows
                .into_iter()
                .map(
                    |(_, no, name, phone, union, occupation, region, since, hardship, verified)| {
                        vec![
                            no,
                            mask_name(&name),
                            phone.masked(),
                            union,
                            occupation.map(occupation_label).unwrap_or_default().to_owned(),
                            region.unwrap_or_default(),
                            time(since),
                            yes_no(hardship),
                            yes_no(verified),
                        ]
                    },
                )
                .collect();
            Ok((cells, cursor))
        },
    ))
}
