//! A code's state as the console names it, from its row: `redeemed` (used),
//! `disabled` (by an operator, or revoked by a refund), `expired` (sold, its
//! life run out unused), `sold` (bound to a buyer, redeemable) or `unsold`.
//! The same rules as an SQL condition, so a filter and a row never disagree.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{MySql, QueryBuilder};

use crate::codes::types::expires_at;
use crate::states::CodeStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    Unsold,
    Sold,
    Redeemed,
    Disabled,
    Expired,
}

impl CodeState {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "unsold" => Self::Unsold,
            "sold" => Self::Sold,
            "redeemed" => Self::Redeemed,
            "disabled" => Self::Disabled,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    /// The state of a row at `now`.
    pub fn of(
        is_used: bool,
        status: i8,
        is_occupied: bool,
        activation_time: Option<NaiveDateTime>,
        expires_days: Option<i32>,
        now: DateTime<Utc>,
    ) -> Self {
        if is_used {
            Self::Redeemed
        } else if status != CodeStatus::Enabled.code() {
            Self::Disabled
        } else if !is_occupied {
            Self::Unsold
        } else if expires_at(activation_time, expires_days).is_some_and(|t| t <= now) {
            Self::Expired
        } else {
            Self::Sold
        }
    }

    /// ` AND <condition>` on `chat_exchange` aliased `e`, matching [`Self::of`].
    pub fn push_condition(self, qb: &mut QueryBuilder<MySql>) {
        const EXPIRED: &str = "(e.expires_days > 0 AND e.activation_time IS NOT NULL \
             AND e.activation_time + INTERVAL e.expires_days DAY <= UTC_TIMESTAMP(3))";
        match self {
            Self::Redeemed => {
                qb.push(" AND e.is_used = 1");
            }
            Self::Disabled => {
                qb.push(" AND e.is_used = 0 AND e.status <> ")
                    .push_bind(CodeStatus::Enabled);
            }
            Self::Unsold => {
                qb.push(" AND e.is_used = 0 AND e.is_occupied = 0 AND e.status = ")
                    .push_bind(CodeStatus::Enabled);
            }
            Self::Expired => {
                qb.push(" AND e.is_used = 0 AND e.is_occupied = 1 AND e.status = ")
                    .push_bind(CodeStatus::Enabled)
                    .push(format!(" AND {EXPIRED}"));
            }
            Self::Sold => {
                qb.push(" AND e.is_used = 0 AND e.is_occupied = 1 AND e.status = ")
                    .push_bind(CodeStatus::Enabled)
                    .push(format!(" AND NOT {EXPIRED}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_rows_state_follows_the_precedence() {
        let now = Utc::now();
        let long_ago = Some((now - TimeDelta::days(40)).naive_utc());
        let on = CodeStatus::Enabled.code();
        let off = CodeStatus::Disabled.code();
        assert_eq!(
            CodeState::of(false, on, false, None, Some(30), now),
            CodeState::Unsold
        );
        assert_eq!(
            CodeState::of(false, on, true, long_ago, Some(90), now),
            CodeState::Sold
        );
        assert_eq!(
            CodeState::of(false, on, true, long_ago, Some(30), now),
            CodeState::Expired
        );
        assert_eq!(
            CodeState::of(false, on, true, long_ago, None, now),
            CodeState::Sold
        );
        assert_eq!(
            CodeState::of(false, off, true, long_ago, Some(30), now),
            CodeState::Disabled
        );
        assert_eq!(
            CodeState::of(true, off, true, long_ago, Some(30), now),
            CodeState::Redeemed
        );
        for s in ["unsold", "sold", "redeemed", "disabled", "expired"] {
            let parsed = CodeState::parse(s);
            assert!(parsed.is_some());
            assert_eq!(
                serde_json::to_value(parsed).ok(),
                Some(serde_json::json!(s))
            );
        }
        assert_eq!(CodeState::parse("used"), None);
    }
}
