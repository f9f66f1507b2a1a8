//! The demo's other ways of handing goods out (the seed article's 广西 and 湖北 cases): the
//! hardship register of 路桥区 allocated rice, flour and oil (精准发放), delivered to the door
//! in two rounds and rated; a few micro-wishes (微心愿), and a warmth campaign for them.
//! Runs after the world is built; what exists is kept.

use anyhow::Context;
use chrono::Duration;
use diesel::prelude::*;

use crate::app::allocation::{self, Plan};
use crate::app::deliveries::{self, DeliverCommand};
use crate::app::ratings::{self, RatingInput};
use crate::app::wishes::{self as wish_app, NewWish};
use crate::db::schema::{campaigns as campaigns_table, stations, unions, users, vouchers};
use crate::db::{self, DbConnection};
use crate::domain::campaigns::{self, CampaignFields, CampaignMode, CampaignStatus, Fulfilment};
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId};
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::rules::Rule;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::voucher_reads;
use crate::domain::vouchers::VoucherStatus;
use crate::domain::wishes::WishCategory;

const RICE_AND_OIL: &str = "困难职工米面油精准发放";
const WARMTH: &str = "微心愿·冬季保暖包";
const ADMIN: &str = "13900000001";
const COUNTER: &str = "13900000002";

/// (phone, address) of the members on the hardship register.
const HARDSHIP: &[(&str, &str)] = &[
    ("13800000003", "台州市路桥区路桥街道石曲村 12 号"),
    ("13800000004", "台州市路桥区螺洋街道解放村 3 组 8 号"),
    ("13800000005", "台州市路桥区桐屿街道凤阳新村 5 幢 201"),
    ("13800000008", "台州市路桥区金清镇黄琅村 27 号"),
];

/// (phone, category, wish)
const WISHES: &[(&str, WishCategory, &str)] = &[
    (
        "13800000001",
        WishCategory::Warmth,
        "冬天骑车送餐手冷，想要一副防风手套",
    ),
    ("13800000005", WishCategory::Food, "家里老人生病，希望有一袋大米"),
    ("13800000007", WishCategory::Tools, "快递三轮车的雨棚坏了"),
    ("13800000002", WishCategory::Daily, "想要一个保温杯"),
];

fn user(conn: &mut DbConnection, phone: &str) -> anyhow::Result<UserId> {
    let phone = Phone::parse(phone).context("demo phone")?;
    users::table
        .filter(users::phone.eq(phone))
        .select(users::id)
        .first(conn)
        .context("the demo world is built first")
}

/// The allocation, its deliveries and ratings, the wishes and the warmth campaign.
pub fn build(conn: &mut DbConnection, keys: &VoucherKeys) -> anyhow::Result<Vec<String>> {
    let (admin, counter) = (user(conn, ADMIN)?, user(conn, COUNTER)?);
    let luqiao: UnionId = unions::table
        .filter(unions::region_code.eq("331004"))
        .select(unions::id)
        .first(conn)?;
    let station: StationId = stations::table
        .filter(stations::union_id.eq(&luqiao))
        .filter(stations::name.eq("路桥区职工服务驿站"))
        .select(stations::id)
        .first(conn)?;
    db::write_tx(conn, register)?;
    let mut lines = Vec::new();
    if find(conn, RICE_AND_OIL)?.is_none() {
        // Allocated three days ago, so the two delivery rounds fall on two past days.
        let start = now() - Duration::days(3);
        let id = db::write_tx(conn, |conn| {
            let id = campaign(conn, &luqiao, &station, &admin, allocation_fields(start)?, start)?;
            let c = campaigns::find(conn, &id)?.context("campaign vanished")?;
            let (_, generation) = allocation::prepare(conn, &c, start)?;
            Ok::<_, anyhow::Error>((id, generation))
        })?;
        let (id, generation) = id;
        allocation::run(conn, &id, keys, Plan::default(), Some(&admin), generation, start)?;
        deliver_rounds(conn, &id, &station, &counter, start)?;
    }
    let rice = find(conn, RICE_AND_OIL)?.context("allocation campaign")?;
    lines.push(format!(
        "campaign        {rice}  米面油 ×10, allocated to the hardship register, delivered in two rounds"
    ));
    if find(conn, WARMTH)?.is_none() {
        let start = now();
        db::write_tx(conn, |conn| {
            let id = campaign(conn, &luqiao, &station, &admin, warmth_fields(start)?, start)?;
            Ok::<_, anyhow::Error>(id)
        })?;
    }
    let warmth = find(conn, WARMTH)?.context("warmth campaign")?;
    lines.push(format!(
        "campaign        {warmth}  保暖包 for workers with a warmth wish"
    ));
    Ok(lines)
}

/// Addresses and the hardship register, and the wishes (kept if filed already).
fn register(conn: &mut DbConnection) -> anyhow::Result<()> {
    for (phone, address) in HARDSHIP {
        let id = user(conn, phone)?;
        diesel::update(users::table.find(&id))
            .set((users::hardship_archived.eq(true), users::address.eq(*address)))
            .execute(conn)?;
    }
    for (phone, category, text) in WISHES {
        let id = user(conn, phone)?;
        let wish = NewWish {
            category: *category,
            text: (*text).to_owned(),
        };
        match wish_app::file(conn, &id, &wish, now()) {
            Ok(_) | Err(wish_app::WishRefusal::AlreadyOpen) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn find(conn: &mut DbConnection, title: &str) -> QueryResult<Option<CampaignId>> {
    campaigns_table::table
        .filter(campaigns_table::title.eq(title))
        .select(campaigns_table::id)
        .first(conn)
        .optional()
}

fn campaign(
    conn: &mut DbConnection,
    union: &UnionId,
    station: &StationId,
    admin: &UserId,
    fields: CampaignFields,
    start: chrono::NaiveDateTime,
) -> anyhow::Result<CampaignId> {
    let c = campaigns::create(
        conn,
        union,
        &fields,
        std::slice::from_ref(station),
        None,
        admin,
        start,
    )?;
    campaigns::transition(
        conn,
        &c.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
        start,
    )?;
    crate::domain::releases::release_due(conn, &c.id, start)?;
    Ok(c.id)
}

fn allocation_fields(start: chrono::NaiveDateTime) -> anyhow::Result<CampaignFields> {
    Ok(CampaignFields {
        title: RICE_AND_OIL.into(),
        item_name: "大米 10 斤、面粉 5 斤、食用油 1 桶".into(),
        description: Some("路桥区总工会为在档困难职工精准发放米面油，工作人员分两批送货上门。".into()),
        total_stock: 10,
        per_worker_limit: 1,
        claim_starts_at: start,
        claim_ends_at: start + Duration::days(30),
        redeem_until: start + Duration::days(60),
        rules: serde_json::to_string(&[Rule::HardshipArchived {}])?,
        voucher_valid_days: None,
        mode: CampaignMode::Allocate,
        fulfilment: Fulfilment::Delivery,
    })
}

fn warmth_fields(start: chrono::NaiveDateTime) -> anyhow::Result<CampaignFields> {
    Ok(CampaignFields {
        title: WARMTH.into(),
        item_name: "防风手套、护膝和暖手宝".into(),
        description: Some("为提出“防寒保暖”微心愿的职工准备，领取核销后心愿即告实现。".into()),
        total_stock: 20,
        per_worker_limit: 1,
        claim_starts_at: start - Duration::hours(1),
        claim_ends_at: start + Duration::days(30),
        redeem_until: start + Duration::days(60),
        rules: serde_json::to_string(&[Rule::Wished {
            category: WishCategory::Warmth,
        }])?,
        voucher_valid_days: None,
        mode: CampaignMode::Claim,
        fulfilment: Fulfilment::Pickup,
    })
}

/// Two delivery rounds on two past days, each hand-over rated; one voucher is left for
/// the counter's delivery list.
fn deliver_rounds(
    conn: &mut DbConnection,
    id: &CampaignId,
    station: &StationId,
    counter: &UserId,
    start: chrono::NaiveDateTime,
) -> anyhow::Result<()> {
    let issued: Vec<crate::domain::ids::VoucherId> = vouchers::table
        .filter(vouchers::campaign_id.eq(id))
        .filter(vouchers::status.eq(VoucherStatus::Issued))
        .order(vouchers::id.asc())
        .select(vouchers::id)
        .load(conn)?;
    let rounds = [(1, 5), (2, 5), (2, 4)];
    for (voucher_id, (day, score)) in issued.iter().zip(rounds) {
        let at = start + Duration::days(day) + Duration::hours(2);
        db::write_tx(conn, |conn| {
            let (voucher, _) = voucher_reads::by_id(conn, voucher_id)?.context("voucher")?;
            let cmd = DeliverCommand {
                voucher_id: voucher_id.clone(),
                station_id: station.clone(),
            };
            deliveries::deliver(conn, &voucher, &cmd, counter, at)?;
            let rating = RatingInput {
                score,
                comment: Some("送货及时，米面油很实用，谢谢工会！".into()),
            };
            ratings::rate(
                conn,
                &voucher.user_id,
                voucher_id,
                &rating,
                at + Duration::hours(1),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
    }
    Ok(())
}
