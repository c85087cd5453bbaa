//! Products as buyers see them: the enabled ones in the admin's order, then by
//! sales, with the stock that can be ordered now (the Redis count); and the
//! admin's product actions (`admin`).

pub mod admin;
pub mod browse;
pub mod queries;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(browse::list_products))
        .routes(routes!(browse::get_product))
        .routes(routes!(admin::create_product, admin::list_products))
        .routes(routes!(admin::update_product))
        .routes(routes!(admin::add_stock))
}
