//! HTTP helpers the route modules share: pagination, the Idempotency-Key runner and
//! request fingerprints, and the extractor settings that keep every failure problem+json.
//! Route modules import from here and from `views`, never from each other.

pub mod extract;
pub mod idempotent;
pub mod json;
pub mod observe;
pub mod pagination;
mod serde_text;
pub mod throttle;

/// The route pattern that matched (`/api/v1/campaigns/{id}/claims`), never the path;
/// `None` when no route did. Worked out once per request and kept in its extensions:
/// actix finds it by trying every route's expression, and the log span, the role gate, the
/// session check, the fingerprint and the metrics each ask.
pub fn route_pattern(req: &actix_web::HttpRequest) -> Option<String> {
    use actix_web::HttpMessage;
    #[derive(Clone)]
    struct Matched(Option<String>);
    if let Some(Matched(pattern)) = req.extensions().get::<Matched>() {
        return pattern.clone();
    }
    let pattern = req.match_pattern();
    req.extensions_mut().insert(Matched(pattern.clone()));
    pattern
}
