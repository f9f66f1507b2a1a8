//! Values stored as TEXT: newtypes (typed ids, phone numbers) and closed sets (statuses,
//! kinds, roles). diesel's `MultiBackend` needs each serialisable by every inner backend
//! as well as by itself. Reading back re-validates: an unknown or malformed stored value
//! is a deserialization error, never a default.

/// Implements TEXT storage for `$name`, written as `$name::as_str` gives it;
/// `$parse: fn(&str) -> Option<$name>` re-validates what is read back.
#[macro_export]
macro_rules! text_sql_type {
    ($name:ident, $parse:path) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        // Every backend reads it: `MultiBackend`, and each inner one for queries run on
        // the inner connection (`db::direct`).
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let raw =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                $parse(&raw)
                    .ok_or_else(|| format!("unknown {} {raw:?} in the database", stringify!($name)).into())
            }
        }
    };
}

/// A closed set of values stored as TEXT and sent in JSON as the same text:
/// `text_enum!(/// docs
/// pub enum VoucherStatus { Issued => "issued", Redeemed => "redeemed" })`.
/// Gives `as_str`, `parse` (`None` for anything else), `ALL`, `Display`, serde and diesel.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name { $($(#[$vmeta])* #[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::text_sql_type!($name, $name::parse);
    };
}

#[cfg(test)]
mod tests {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use crate::db::DbConnection;
    use crate::domain::campaigns::CampaignStatus;
    use crate::domain::vouchers::VoucherStatus;

    fn read(value: &str) -> QueryResult<VoucherStatus> {
        let mut conn = DbConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        diesel::select(sql::<Text>("").bind::<Text, _>(value)).get_result(&mut conn)
    }

    #[test]
    fn every_value_reads_back_as_itself() {
        for status in VoucherStatus::ALL {
            assert_eq!(read(status.as_str()).unwrap(), *status);
        }
        for status in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::parse(&status.to_string()), Some(*status));
        }
    }

    #[test]
    fn an_unknown_stored_value_is_an_error_never_a_default() {
        // `expired` is derived, never stored; case matters; anything else is unknown.
        for unknown in ["expired", "Issued", "", "lost"] {
            let err = read(unknown).unwrap_err();
            assert!(
                matches!(err, diesel::result::Error::DeserializationError(_)),
                "{unknown}: {err}"
            );
            assert!(
                format!("{err:?}").contains("unknown VoucherStatus"),
                "{unknown}: {err:?}"
            );
        }
    }
}
