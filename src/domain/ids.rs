//! Typed IDs: a `UserId` can't be passed where a `SessionId` is expected, and every
//! value is a canonical UUID (v7 when we mint it).

use diesel::sql_types::Text;

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = Text)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().hyphenated().to_string())
            }
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::try_parse(raw)
                    .ok()
                    .map(|u| Self(u.hyphenated().to_string()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("不是有效的编号（应为 UUID）"))
            }
        }

        $crate::text_sql_type!($name, $name::parse);
    )*};
}

typed_id!(
    UserId,
    SessionId,
    RefreshTokenId,
    UnionId,
    StationId,
    MembershipId,
    ApplicationId,
    AuditEventId,
    PasswordResetId,
    CampaignId,
    VoucherId,
    RedemptionId,
    NotificationId,
    OutboxId,
    PartnerId,
    GrantId,
    AttestationId,
    PartnerCallId,
    EndpointId,
    AttemptId,
    WishId,
);
