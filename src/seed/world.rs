//! The demo world: 台州市总工会 (3310) with 路桥区总工会 (331004), two stations, a union
//! admin, two counters, a dozen workers (some of them members) and the published
//! 900-pack care-pack campaign. What exists is kept.

use anyhow::Context;
use diesel::prelude::*;

use chrono::Duration;

use crate::db::schema::{campaigns as campaigns_table, stations, unions, users};
use crate::db::DbConnection;
use crate::domain::campaigns::{self, CampaignFields, CampaignStatus};
use crate::domain::ids::{CampaignId, StationId, UnionId, UserId};
use crate::domain::membership::{self, ApplicationKind, Submission};
use crate::domain::now;
use crate::domain::org::{self, NewStation, NewUnion, UnionKind};
use crate::domain::phone::Phone;
use crate::domain::profile::{Occupation, Role};
use crate::domain::rules::Rule;
use crate::domain::users::{self as user_queries, NewUser};

const PLATFORM_ADMIN: &str = "13900000000";
const UNION_ADMIN: &str = "13900000001";
const COUNTERS: [&str; 2] = ["13900000002", "13900000003"];

/// (phone, name, occupation, member of 路桥区)
const WORKERS: &[(&str, &str, Occupation, bool)] = &[
    ("13800000001", "王小明", Occupation::FoodDelivery, true),
    ("13800000002", "李建国", Occupation::Courier, true),
    ("13800000003", "张伟", Occupation::RideHailing, true),
    ("13800000004", "刘芳", Occupation::TruckDriver, true),
    ("13800000005", "陈静", Occupation::Sanitation, true),
    ("13800000006", "杨帆", Occupation::FoodDelivery, true),
    ("13800000007", "赵磊", Occupation::Courier, true),
    ("13800000008", "黄丽", Occupation::Domestic, true),
    ("13800000009", "周强", Occupation::FoodDelivery, false),
    ("13800000010", "吴敏", Occupation::Courier, false),
    ("13800000011", "郑浩", Occupation::TruckDriver, false),
    ("13800000012", "孙悦", Occupation::Other, false),
];

fn ensure_user(
    conn: &mut DbConnection,
    phone: &str,
    name: &str,
    role: Role,
    hash: &str,
    setup: impl FnOnce(&mut NewUser),
) -> anyhow::Result<UserId> {
    let phone = Phone::parse(phone).context("demo phone")?;
    if let Some(existing) = user_queries::find_by_phone(conn, &phone)? {
        return Ok(existing.id);
    }
    let mut user = NewUser::new(phone, hash.to_owned(), name.to_owned(), role, now());
    setup(&mut user);
    user_queries::create(conn, &user)?;
    Ok(user.id)
}

fn ensure_union(
    conn: &mut DbConnection,
    name: &str,
    parent: Option<&org::Union>,
    region: &str,
    kind: UnionKind,
    by: &UserId,
) -> anyhow::Result<org::Union> {
    let existing: Option<UnionId> = unions::table
        .filter(unions::name.eq(name))
        .filter(unions::region_code.eq(region))
        .select(unions::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return org::find_union(conn, &id)?.context("union vanished");
    }
    let new = NewUnion {
        name: name.into(),
        parent,
        kind,
        region_code: region.into(),
        onsite_auto_approve: false,
        created_by: by,
    };
    Ok(org::create_union(conn, new, now())?)
}

fn ensure_station(
    conn: &mut DbConnection,
    union: &UnionId,
    name: &str,
    address: &str,
    lat: f64,
    lng: f64,
) -> anyhow::Result<StationId> {
    let existing: Option<StationId> = stations::table
        .filter(stations::union_id.eq(union))
        .filter(stations::name.eq(name))
        .select(stations::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let new = NewStation {
        id: StationId::generate(),
        union_id: union.clone(),
        name: name.into(),
        address: Some(address.into()),
        lat: Some(lat),
        lng: Some(lng),
        open_24h: false,
        opening_hours: Some("08:30-20:30".into()),
        created_at: now(),
    };
    Ok(org::create_station(conn, &new)?.id)
}

/// Builds (or completes) the demo world; returns the login lines to print.
pub fn build(conn: &mut DbConnection, hash: &str) -> anyhow::Result<Vec<String>> {
    let platform = ensure_user(
        conn,
        PLATFORM_ADMIN,
        "平台管理员",
        Role::PlatformAdmin,
        hash,
        |_| {},
    )?;
    let city = ensure_union(conn, "台州市总工会", None, "331000", UnionKind::City, &platform)?;
    let luqiao = ensure_union(
        conn,
        "路桥区总工会",
        Some(&city),
        "331004",
        UnionKind::District,
        &platform,
    )?;
    let stations = [
        ensure_station(
            conn,
            &luqiao.id,
            "路桥区职工服务驿站",
            "台州市路桥区路桥街道银安街",
            28.5809,
            121.3653,
        )?,
        ensure_station(
            conn,
            &luqiao.id,
            "金清镇快递小哥驿站",
            "台州市路桥区金清镇",
            28.5031,
            121.5146,
        )?,
    ];
    let admin = ensure_user(
        conn,
        UNION_ADMIN,
        "路桥区工会管理员",
        Role::UnionAdmin,
        hash,
        |u| u.union_id = Some(luqiao.id.clone()),
    )?;
    let mut lines = vec![
        format!("platform_admin  {PLATFORM_ADMIN}"),
        format!("union_admin     {UNION_ADMIN}  路桥区总工会"),
    ];
    for (phone, station) in COUNTERS.iter().zip(&stations) {
        let counter = ensure_user(conn, phone, "核销员", Role::Counter, hash, |u| {
            u.union_id = Some(luqiao.id.clone())
        })?;
        let bound: i64 = crate::db::schema::staff_stations::table
            .filter(crate::db::schema::staff_stations::user_id.eq(&counter))
            .count()
            .get_result(conn)?;
        if bound == 0 {
            org::bind_stations(conn, &counter, std::slice::from_ref(station))?;
        }
        lines.push(format!("counter         {phone}  station {station}"));
    }
    for (phone, name, occupation, member) in WORKERS {
        let worker = ensure_user(conn, phone, name, Role::Worker, hash, |u| {
            u.occupation = Some(*occupation);
            u.region_code = Some("331004".into());
        })?;
        if *member
            && membership::active(conn, &worker)?.is_none()
            && membership::pending(conn, &worker)?.is_none()
        {
            let s = Submission {
                kind: ApplicationKind::Join,
                user: &worker,
                union: &luqiao.id,
                submitted_by: &worker,
                station: None,
            };
            let app = membership::submit(conn, s, now())?;
            membership::approve(conn, &app, &admin, now())?;
            diesel::update(users::table.find(&worker))
                .set(users::occupation_verified.eq(true))
                .execute(conn)?;
        }
        let status = if *member {
            "member of 路桥区"
        } else {
            "not a member"
        };
        lines.push(format!(
            "worker          {phone}  {name} ({}, {status})",
            occupation.as_str()
        ));
    }
    let campaign = ensure_care_packs(conn, &city, &luqiao, &stations, &admin)?;
    lines.push(format!("campaign        {campaign}  暖心礼包 ×900, published"));
    Ok(lines)
}

const CARE_PACKS: &str = "路桥区新就业形态劳动者暖心礼包";

/// The 900 care packs for couriers, riders and drivers who are members in 3310.
fn ensure_care_packs(
    conn: &mut DbConnection,
    city: &org::Union,
    luqiao: &org::Union,
    stations: &[StationId],
    admin: &UserId,
) -> anyhow::Result<CampaignId> {
    let existing: Option<CampaignId> = campaigns_table::table
        .filter(campaigns_table::union_id.eq(&luqiao.id))
        .filter(campaigns_table::title.eq(CARE_PACKS))
        .select(campaigns_table::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let rules = vec![
        Rule::MemberOf {
            union_id: city.id.clone(),
        },
        Rule::OccupationIn {
            values: vec![
                Occupation::Courier,
                Occupation::FoodDelivery,
                Occupation::RideHailing,
                Occupation::TruckDriver,
            ],
        },
    ];
    let start = now();
    let fields = CampaignFields {
        title: CARE_PACKS.into(),
        item_name: "暖心礼包".into(),
        description: Some(
            "路桥区总工会为快递员、外卖配送员、网约车和货车司机准备的暖心礼包，凭券到驿站领取。".into(),
        ),
        total_stock: 900,
        per_worker_limit: 1,
        claim_starts_at: start - Duration::hours(1),
        claim_ends_at: start + Duration::days(30),
        redeem_until: start + Duration::days(60),
        rules: serde_json::to_string(&rules)?,
        voucher_valid_days: None,
        mode: Default::default(),
        fulfilment: Default::default(),
    };
    let campaign = campaigns::create(conn, &luqiao.id, &fields, stations, None, admin, start)?;
    campaigns::transition(
        conn,
        &campaign.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
        start,
    )?;
    Ok(campaign.id)
}
