//! The one place where refusals become HTTP answers: status, stable code, Chinese title
//! (all from `ErrorCode`), detail and extension members. Use cases and scopes return
//! typed refusals; handlers `?` them into `ApiError` through these conversions.

use serde_json::json;

use super::{ApiError, ErrorCode};
use crate::app::accounts::AccountRefusal;
use crate::app::allocation::AllocationRefusal;
use crate::app::campaigns::CampaignRefusal;
use crate::app::claims::{CancelRefusal, ClaimRefusal};
use crate::app::membership::MembershipRefusal;
use crate::app::org::OrgRefusal;
use crate::app::ratings::RatingRefusal;
use crate::app::redemptions::RedeemRefusal;
use crate::app::voucher_admin::AdminVoucherRefusal;
use crate::app::wishes::WishRefusal;
use crate::auth::scope::ScopeError;
use crate::auth::sessions::RotationRefusal;
use crate::domain::membership::MembershipError;
use crate::domain::redemptions::{RedeemError, ReverseError};
use crate::domain::{civil, utc};

impl From<ScopeError> for ApiError {
    fn from(e: ScopeError) -> Self {
        match e {
            ScopeError::Forbidden | ScopeError::OutsideScope => ErrorCode::Forbidden.into(),
            ScopeError::UnionNotFound => ApiError::new(ErrorCode::NotFound).with_detail("没有这个工会"),
            ScopeError::NotFound => ErrorCode::NotFound.into(),
            ScopeError::StationNotAllowed => ApiError::new(ErrorCode::StationNotAllowed)
                .with_detail("您的柜台账号未绑定这个驿站，请选择您所在的驿站后重试"),
            ScopeError::Database(e) => e.into(),
        }
    }
}

impl From<AccountRefusal> for ApiError {
    fn from(e: AccountRefusal) -> Self {
        match e {
            AccountRefusal::PhoneTaken => ErrorCode::PhoneTaken.into(),
            AccountRefusal::Invalid(detail) => ApiError::from(detail),
            AccountRefusal::Database(e) => e.into(),
        }
    }
}

impl From<RotationRefusal> for ApiError {
    fn from(e: RotationRefusal) -> Self {
        match e {
            RotationRefusal::Reused => ErrorCode::RefreshTokenReused.into(),
            RotationRefusal::Expired => ErrorCode::TokenExpired.into(),
            RotationRefusal::Revoked => ErrorCode::TokenRevoked.into(),
            RotationRefusal::Unknown => ErrorCode::TokenInvalid.into(),
            RotationRefusal::Database(e) => e.into(),
        }
    }
}

impl From<ClaimRefusal> for ApiError {
    fn from(e: ClaimRefusal) -> Self {
        match e {
            ClaimRefusal::NotFound => ErrorCode::NotFound.into(),
            // The reason's own words (暂停中, 尚未开始 + when) are the title a worker reads.
            ClaimRefusal::NotOpen(r) => ApiError::new(ErrorCode::CampaignNotOpen)
                .with_title(r.message.clone())
                .with_detail(r.message),
            ClaimRefusal::Ended(r) => ApiError::new(ErrorCode::CampaignEnded).with_detail(r.message),
            ClaimRefusal::AlreadyClaimed(v, r) => ApiError::new(ErrorCode::AlreadyClaimed)
                .with_detail(r.message)
                .with_extension("voucher_id", json!(v)),
            ClaimRefusal::NotEligible(reasons) => {
                ApiError::new(ErrorCode::NotEligible).with_extension("reasons", json!(reasons))
            }
            ClaimRefusal::SoldOut(None) => ErrorCode::SoldOut.into(),
            ClaimRefusal::SoldOut(Some(next)) => ApiError::new(ErrorCode::SoldOut)
                .with_detail(format!("本批礼包已领完，下一批 {} 放出", civil::show(next)))
                .with_extension("next_release_at", json!(utc(next))),
            ClaimRefusal::Database(e) => e.into(),
        }
    }
}

impl From<CancelRefusal> for ApiError {
    fn from(e: CancelRefusal) -> Self {
        match e {
            CancelRefusal::NotFound => ErrorCode::NotFound.into(),
            CancelRefusal::NotActive => ErrorCode::VoucherNotActive.into(),
            CancelRefusal::Database(e) => e.into(),
        }
    }
}

/// The fence's refusals; `ALREADY_REDEEMED` normally arrives through `RedeemRefusal`
/// with the station's name, this is the bare form.
impl From<RedeemError> for ApiError {
    fn from(e: RedeemError) -> Self {
        match e {
            RedeemError::AlreadyRedeemed(r) => ApiError::new(ErrorCode::AlreadyRedeemed)
                .with_extension("redeemed_at", json!(r.as_ref().map(|r| utc(r.at))))
                .with_extension("station_id", json!(r.map(|r| r.station))),
            RedeemError::Expired => ErrorCode::VoucherExpired.into(),
            RedeemError::Cancelled => ErrorCode::VoucherCancelled.into(),
            RedeemError::Revoked => ErrorCode::VoucherRevoked.into(),
            RedeemError::Database(e) => e.into(),
        }
    }
}

impl From<ReverseError> for ApiError {
    fn from(e: ReverseError) -> Self {
        match e {
            ReverseError::WindowPassed => ErrorCode::ReversalWindowPassed.into(),
            ReverseError::AlreadyReversed => ErrorCode::AlreadyReversed.into(),
            ReverseError::Database(e) => e.into(),
        }
    }
}

impl From<MembershipError> for ApiError {
    fn from(e: MembershipError) -> Self {
        match e {
            MembershipError::AlreadyMember => ErrorCode::AlreadyMember.into(),
            MembershipError::ApplicationPending => ErrorCode::ApplicationPending.into(),
            MembershipError::NotAMember => ErrorCode::NotAMember.into(),
            MembershipError::NotPending => ErrorCode::ApplicationNotPending.into(),
            MembershipError::Database(e) => e.into(),
        }
    }
}

impl From<RedeemRefusal> for ApiError {
    fn from(e: RedeemRefusal) -> Self {
        match e {
            RedeemRefusal::UnknownCode => ErrorCode::VoucherNotFound.into(),
            RedeemRefusal::StationNotBound => ApiError::new(ErrorCode::StationNotAllowed)
                .with_detail("您的柜台账号未绑定这个驿站，请选择您所在的驿站后重试"),
            RedeemRefusal::NotRedeemableHere { campaign_stations } => {
                ApiError::new(ErrorCode::StationNotAllowed)
                    .with_detail(format!(
                        "本驿站不在本活动的核销驿站之中，请持券到以下驿站领取：{}",
                        campaign_stations.join("、")
                    ))
                    .with_extension("station_names", json!(campaign_stations))
            }
            RedeemRefusal::AlreadyRedeemed {
                at,
                station,
                station_name,
            } => ApiError::new(ErrorCode::AlreadyRedeemed)
                .with_detail(format!(
                    "这张券已于 {} 在{station_name}核销，不能重复核销",
                    civil::show(at)
                ))
                .with_extension("redeemed_at", json!(utc(at)))
                .with_extension("station_id", json!(station))
                .with_extension("station_name", json!(station_name)),
            RedeemRefusal::DeliveryNotOffered => ErrorCode::DeliveryNotOffered.into(),
            RedeemRefusal::Fence(e) => e.into(),
            RedeemRefusal::Scope(e) => e.into(),
            RedeemRefusal::Database(e) => e.into(),
        }
    }
}

impl From<AdminVoucherRefusal> for ApiError {
    fn from(e: AdminVoucherRefusal) -> Self {
        match e {
            AdminVoucherRefusal::Reverse(e) => e.into(),
            AdminVoucherRefusal::NotActive => ErrorCode::VoucherNotActive.into(),
            AdminVoucherRefusal::Scope(e) => e.into(),
            AdminVoucherRefusal::Database(e) => e.into(),
        }
    }
}

impl From<CampaignRefusal> for ApiError {
    fn from(e: CampaignRefusal) -> Self {
        match e {
            CampaignRefusal::Invalid(detail) => ApiError::from(detail),
            CampaignRefusal::Conflict(detail) => {
                ApiError::new(ErrorCode::CampaignStateConflict).with_detail(detail)
            }
            CampaignRefusal::Allocation(e) => e.into(),
            CampaignRefusal::Scope(e) => e.into(),
            CampaignRefusal::Database(e) => e.into(),
        }
    }
}

impl From<MembershipRefusal> for ApiError {
    fn from(e: MembershipRefusal) -> Self {
        match e {
            MembershipRefusal::UnionNotFound => {
                ApiError::new(ErrorCode::NotFound).with_detail("没有这个工会")
            }
            MembershipRefusal::UnknownJoinCode => ApiError::new(ErrorCode::NotFound)
                .with_detail("入会码无效、已使用或已过期，请职工在 App 中重新生成"),
            MembershipRefusal::Invalid(e) => e.into(),
            MembershipRefusal::NotServed => ErrorCode::Forbidden.into(),
            MembershipRefusal::Membership(e) => e.into(),
            MembershipRefusal::Ended => ErrorCode::MembershipEnded.into(),
            MembershipRefusal::Scope(e) => e.into(),
            MembershipRefusal::Database(e) => e.into(),
        }
    }
}

impl From<OrgRefusal> for ApiError {
    fn from(e: OrgRefusal) -> Self {
        match e {
            OrgRefusal::Invalid(detail) => ApiError::from(detail),
            OrgRefusal::PhoneTaken => ErrorCode::PhoneTaken.into(),
            OrgRefusal::LevelNotAllowed(why) => ApiError::new(ErrorCode::Forbidden).with_detail(why),
            OrgRefusal::Scope(e) => e.into(),
            OrgRefusal::Database(e) => e.into(),
        }
    }
}

impl From<crate::app::partners::PartnerRefusal> for ApiError {
    fn from(e: crate::app::partners::PartnerRefusal) -> Self {
        use crate::app::partners::PartnerRefusal;
        match e {
            PartnerRefusal::Invalid(e) => e.into(),
            PartnerRefusal::NotFound => ApiError::new(ErrorCode::NotFound).with_detail("没有这个合作方"),
            PartnerRefusal::Scope(e) => e.into(),
            PartnerRefusal::Database(e) => e.into(),
        }
    }
}

impl From<AllocationRefusal> for ApiError {
    fn from(e: AllocationRefusal) -> Self {
        match e {
            AllocationRefusal::StockInsufficient {
                admitted,
                available,
                allocated,
            } => {
                let detail = if allocated == 0 {
                    format!("符合条件且尚未发放的职工有 {admitted} 人，剩余库存只有 {available} 份；一份也没有发出，请先增加库存")
                } else {
                    format!("已发出 {allocated} 份；又有 {admitted} 人符合条件，剩余库存只有 {available} 份，他们尚未发放，请增加库存后补发")
                };
                ApiError::new(ErrorCode::StockInsufficient)
                    .with_detail(detail)
                    .with_extension("admitted", json!(admitted))
                    .with_extension("available", json!(available))
                    .with_extension("allocated", json!(allocated))
            }
            AllocationRefusal::Conflict(detail) => {
                ApiError::new(ErrorCode::CampaignStateConflict).with_detail(detail)
            }
            AllocationRefusal::Scope(e) => e.into(),
            AllocationRefusal::Database(e) => e.into(),
        }
    }
}

impl From<RatingRefusal> for ApiError {
    fn from(e: RatingRefusal) -> Self {
        match e {
            RatingRefusal::Invalid(e) => e.into(),
            RatingRefusal::NotFound => ErrorCode::VoucherNotFound.into(),
            RatingRefusal::NotRedeemed => ApiError::new(ErrorCode::VoucherNotRedeemed)
                .with_detail("这张券还没有核销或送达，领到礼包后再来评价"),
            RatingRefusal::AlreadyRated => ErrorCode::AlreadyRated.into(),
            RatingRefusal::Database(e) => e.into(),
        }
    }
}

impl From<WishRefusal> for ApiError {
    fn from(e: WishRefusal) -> Self {
        match e {
            WishRefusal::Invalid(e) => e.into(),
            WishRefusal::AlreadyOpen => ApiError::new(ErrorCode::WishAlreadyOpen)
                .with_detail("您已有一个这一类的心愿在等待实现，实现后可再提新的"),
            WishRefusal::Database(e) => e.into(),
        }
    }
}
