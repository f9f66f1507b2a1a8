//! One rejected input value: where it was and, in Chinese, what to do about it.
//!
//! Every 400 `INVALID_REQUEST` of the API is built from these (contract v1.1,
//! "Validation errors"): `field` is the path in the body or query (`rules[2].values`,
//! `limit`) or a header name (`X-Terminal-Id`); `message` is fit to show a person.

/// A field that was refused, with a message naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same refusal, nested under `parent` (`rules[0]` + `values` → `rules[0].values`).
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.field = match (parent.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => parent.to_owned(),
            (false, false) if self.field.starts_with('[') => format!("{parent}{}", self.field),
            (false, false) => format!("{parent}.{}", self.field),
        };
        self
    }
}
