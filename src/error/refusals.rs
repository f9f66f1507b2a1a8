//! The one place where refusals become HTTP answers: status, stable code, Chinese title
//! (all from `ErrorCode`), detail and extension members. Use cases and scopes return
//! typed refusals; handlers `?` them into `ApiError` through these conversions.

use serde_json::json;

use super::{ApiError, ErrorCode};
use crate::app::accounts::AccountRefusal;
use crate::app::campaigns::CampaignRefusal;
use crate::app::claims::{CancelRefusal, ClaimRefusal};
use crate::app::membership::MembershipRefusal;
use crate::app::org::OrgRefusal;
use crate::app::redemptions::{AdminVoucherRefusal, RedeemRefusal};
use crate::auth::scope::ScopeError;
use crate::auth::sessions::RotationRefusal;
use crate::domain::redemptions::Redeemed;
use crate::domain::utc;

impl From<ScopeError> for ApiError {
    fn from(e: ScopeError) -> Self {
        match e {
            ScopeError::Forbidden | ScopeError::OutsideScope => ErrorCode::Forbidden.into(),
            ScopeError::UnionNotFound => ApiError::new(ErrorCode::NotFound).with_detail("no such union"),
            ScopeError::NotFound => ErrorCode::NotFound.into(),
            ScopeError::StationNotAllowed => ErrorCode::StationNotAllowed.into(),
            ScopeError::Database(e) => e.into(),
        }
    }
}

impl From<AccountRefusal> for ApiError {
    fn from(e: AccountRefusal) -> Self {
        match e {
            AccountRefusal::PhoneTaken => ErrorCode::PhoneTaken.into(),
            AccountRefusal::Invalid(detail) => ApiError::invalid(detail),
            AccountRefusal::NotFound => ErrorCode::NotFound.into(),
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
            ClaimRefusal::NotOpen(r) => ApiError::new(ErrorCode::CampaignNotOpen).with_detail(r.message),
            ClaimRefusal::Ended(r) => ApiError::new(ErrorCode::CampaignEnded).with_detail(r.message),
            ClaimRefusal::AlreadyClaimed(v) => {
                ApiError::new(ErrorCode::AlreadyClaimed).with_extension("voucher_id", json!(v))
            }
            ClaimRefusal::NotEligible(reasons) => {
                ApiError::new(ErrorCode::NotEligible).with_extension("reasons", json!(reasons))
            }
            ClaimRefusal::SoldOut => ErrorCode::SoldOut.into(),
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

/// `ALREADY_REDEEMED` says when (UTC) and where the live redemption happened.
fn already_redeemed(r: Option<Redeemed>) -> ApiError {
    ApiError::new(ErrorCode::AlreadyRedeemed)
        .with_extension("redeemed_at", json!(r.as_ref().map(|r| utc(r.at))))
        .with_extension("station_id", json!(r.map(|r| r.station)))
}

impl From<RedeemRefusal> for ApiError {
    fn from(e: RedeemRefusal) -> Self {
        match e {
            RedeemRefusal::UnknownCode => ErrorCode::VoucherNotFound.into(),
            RedeemRefusal::StationNotAllowed => ErrorCode::StationNotAllowed.into(),
            RedeemRefusal::AlreadyRedeemed(r) => already_redeemed(r),
            RedeemRefusal::Expired => ErrorCode::VoucherExpired.into(),
            RedeemRefusal::Cancelled => ErrorCode::VoucherCancelled.into(),
            RedeemRefusal::Revoked => ErrorCode::VoucherRevoked.into(),
            RedeemRefusal::Scope(e) => e.into(),
            RedeemRefusal::Database(e) => e.into(),
        }
    }
}

impl From<AdminVoucherRefusal> for ApiError {
    fn from(e: AdminVoucherRefusal) -> Self {
        match e {
            AdminVoucherRefusal::WindowPassed => ErrorCode::ReversalWindowPassed.into(),
            AdminVoucherRefusal::AlreadyReversed => ErrorCode::AlreadyReversed.into(),
            AdminVoucherRefusal::NotActive => ErrorCode::VoucherNotActive.into(),
            AdminVoucherRefusal::Scope(e) => e.into(),
            AdminVoucherRefusal::Database(e) => e.into(),
        }
    }
}

impl From<CampaignRefusal> for ApiError {
    fn from(e: CampaignRefusal) -> Self {
        match e {
            CampaignRefusal::Invalid(detail) => ApiError::invalid(detail),
            CampaignRefusal::Conflict(detail) => {
                ApiError::new(ErrorCode::CampaignStateConflict).with_detail(detail)
            }
            CampaignRefusal::Scope(e) => e.into(),
            CampaignRefusal::Database(e) => e.into(),
        }
    }
}

impl From<MembershipRefusal> for ApiError {
    fn from(e: MembershipRefusal) -> Self {
        match e {
            MembershipRefusal::UnionNotFound => {
                ApiError::new(ErrorCode::NotFound).with_detail("no such union")
            }
            MembershipRefusal::WorkerNotFound => {
                ApiError::new(ErrorCode::NotFound).with_detail("no worker registered with that phone")
            }
            MembershipRefusal::NotServed => ErrorCode::Forbidden.into(),
            MembershipRefusal::AlreadyMember => ErrorCode::AlreadyMember.into(),
            MembershipRefusal::ApplicationPending => ErrorCode::ApplicationPending.into(),
            MembershipRefusal::NotAMember => ErrorCode::NotAMember.into(),
            MembershipRefusal::NotPending => ErrorCode::ApplicationNotPending.into(),
            MembershipRefusal::Scope(e) => e.into(),
            MembershipRefusal::Database(e) => e.into(),
        }
    }
}

impl From<OrgRefusal> for ApiError {
    fn from(e: OrgRefusal) -> Self {
        match e {
            OrgRefusal::Invalid(detail) => ApiError::invalid(detail),
            OrgRefusal::PhoneTaken => ErrorCode::PhoneTaken.into(),
            OrgRefusal::Scope(e) => e.into(),
            OrgRefusal::Database(e) => e.into(),
        }
    }
}
