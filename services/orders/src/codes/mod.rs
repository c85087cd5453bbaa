//! Redemption codes: the ones I own, and redeeming one.
//!
//! A code is a bearer instrument: whoever holds it may redeem it, so a buyer
//! can give one away. Failed attempts are rate limited per user, which
//! together with ~74 random bits per code makes guessing hopeless; a much
//! higher per-IP limit is only a backstop, so one user's failures never lock
//! out the others behind the same address (an office behind NAT).

pub mod code;
pub mod generate;
pub mod list;
pub mod queries;
pub mod redeem;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list_codes))
        .routes(routes!(redeem::redeem))
}
