//! The dashboard's answers and query strings, and the shop's calendar.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Money on the wire: a string with two decimals.
pub fn money(d: Decimal) -> String {
    format!(
        "{:.2}",
        d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    )
}

/// Calendar days in the shop's time zone, a fixed offset from UTC
/// (`shop_utc_offset_minutes`); the database keeps UTC.
#[derive(Debug, Clone, Copy)]
pub struct ShopClock {
    offset: TimeDelta,
}

impl ShopClock {
    pub fn new(offset_minutes: i32) -> Self {
        Self {
            offset: TimeDelta::minutes(i64::from(offset_minutes)),
        }
    }

    pub fn offset_minutes(self) -> i64 {
        self.offset.num_minutes()
    }

    pub fn today(self) -> NaiveDate {
        self.date_of(Utc::now().naive_utc())
    }

    /// The shop's date of a UTC time.
    pub fn date_of(self, utc: NaiveDateTime) -> NaiveDate {
        (utc + self.offset).date()
    }

    /// The UTC time the shop's `date` begins.
    pub fn start_of(self, date: NaiveDate) -> NaiveDateTime {
        date.and_time(NaiveTime::MIN) - self.offset
    }

    /// The `days` calendar days ending today, oldest first.
    pub fn last_days(self, days: u32) -> Vec<NaiveDate> {
        let today = self.today();
        (0..u64::from(days))
            .rev()
            .map(|back| today - Days::new(back))
            .collect()
    }
}

/// The figures of one range of days.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct RangeFigures {
    pub revenue: String,
    pub paid_orders: i64,
    pub placed_orders: i64,
    pub closed_orders: i64,
    pub refunded_orders: i64,
    pub new_users: i64,
    pub answers: i64,
    pub chat_times_sold: i64,
    pub chat_times_used: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub today: RangeFigures,
    pub last_7_days: RangeFigures,
    pub last_30_days: RangeFigures,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DailyQuery {
    /// 1..=366, default 30.
    pub days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayFigures {
    /// `YYYY-MM-DD` in the shop's time zone.
    pub date: String,
    pub revenue: String,
    pub paid_orders: i64,
    pub placed_orders: i64,
    pub closed_orders: i64,
    pub new_users: i64,
    pub answers: i64,
    pub tokens: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Daily {
    pub items: Vec<DayFigures>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    Units,
    Revenue,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HotQuery {
    /// `units` (default) or `revenue`.
    pub by: Option<String>,
    /// 1..=366, default 30.
    pub days: Option<u32>,
    /// 1..=100, default 10.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotProduct {
    #[serde(serialize_with = "crate::wire::id_string")]
    #[schema(value_type = String)]
    pub product_id: i64,
    pub name: String,
    pub units: i64,
    pub revenue: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HotProducts {
    pub items: Vec<HotProduct>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Problems {
    /// Payment events parked because fulfilment kept failing, not yet resolved.
    pub payment_failures: i64,
    /// Orders with a QR code issued whose payment window has ended.
    pub stale_awaiting_confirmation: i64,
    /// Alipay notifies the gateway refused in the last 24 hours.
    pub refused_notifies_24h: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rebuilt {
    /// Days rebuilt in Redis (those with sales).
    pub days: usize,
    /// Paid orders counted.
    pub orders: i64,
}

/// Parses `days` (1..=366, default 30).
pub fn days_param(days: Option<u32>) -> Result<u32, paychat_common::ApiError> {
    let days = days.unwrap_or(30);
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(paychat_common::ApiError::field(
            "invalid_request",
            "days",
            "must be 1..=366",
        ))
    }
}

/// The most days a panel covers, and what Redis keeps.
pub const MAX_DAYS: u32 = 366;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_day_begins_at_its_offset() {
        let clock = ShopClock::new(480);
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date");
        let start = clock.start_of(date);
        assert_eq!(start.to_string(), "2026-02-28 16:00:00");
        assert_eq!(clock.date_of(start), date);
        assert_eq!(
            clock.date_of(start - TimeDelta::seconds(1)),
            date.pred_opt().expect("a date")
        );
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(money(Decimal::new(5, 0)), "5.00");
        assert_eq!(money(Decimal::new(12345, 3)), "12.35");
    }

    #[test]
    fn days_are_bounded() {
        assert!(days_param(Some(0)).is_err());
        assert!(days_param(Some(367)).is_err());
        assert_eq!(days_param(None).expect("the default"), 30);
    }
}
