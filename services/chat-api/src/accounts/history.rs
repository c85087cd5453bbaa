//! `GET /api/users/me/times-history`: where the user's chat times came from
//! and went, newest first.
//!
//! Read from the rows that already record each change, so it cannot drift
//! from the balance and needs nothing written alongside it:
//! - `bought`: a paid order's codes (`chat_exchange` by `order_id`); codes are
//!   not chat times until redeemed, so these leave the balance as it is;
//! - `redeemed`: `chat_user_exchange_record`, the code's `reward_use_times`;
//! - `spent`: every answer (`chat_message`, type answer) took one time when
//!   it started;
//! - `returned`: an answer that ended without a word of content (not still
//!   streaming) had its time given back, in the transaction that closed it;
//! - `adjusted`: an admin's change (`chat_times_adjustment`, written in the
//!   transaction that changed the balance), with the admin's reason as label.
//!
//! Every balance change is one of those; there is no other path that changes
//! `can_conversation_times`.
//!
//! Entries sort by (time, kind, id), newest first; the cursor is that key.

use axum::extract::{Query, State};
use chrono::{DateTime, TimeZone, Utc};
use paychat_common::auth::AuthUser;
use paychat_common::{ApiError, Json};
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use utoipa::{IntoParams, ToSchema};

use crate::chat::types::{ANSWER, MessageStatus};
use crate::pagination::{PageQuery, rfc3339};
use crate::state::AppState;

/// What kind of entry; the discriminants order entries of the same instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Bought = 1,
    Redeemed = 2,
    Spent = 3,
    Returned = 4,
    Adjusted = 5,
}

impl Kind {
    const ALL: [Self; 5] = [
        Self::Bought,
        Self::Redeemed,
        Self::Spent,
        Self::Returned,
        Self::Adjusted,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Bought => "bought",
            Self::Redeemed => "redeemed",
            Self::Spent => "spent",
            Self::Returned => "returned",
            Self::Adjusted => "adjusted",
        }
    }

    fn rank(self) -> i64 {
        self as i64
    }

    fn from_rank(rank: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.rank() == rank)
    }

    /// The rows of this kind for one user: `(id, at, times, label, room_id,
    /// answer_id)`, with `(at, id)` before the cursor's, newest first.
    fn sql(self) -> &'static str {
        match self {
            Self::Bought => {
                "SELECT e.order_id AS id, COALESCE(o.pay_time, o.update_time) AS at, \
                 CAST(SUM(e.reward_use_times) AS SIGNED) AS times, \
                 GROUP_CONCAT(DISTINCT e.name ORDER BY e.name SEPARATOR ', ') AS label, \
                 CAST(NULL AS SIGNED) AS room_id, CAST(NULL AS CHAR) AS answer_id \
                 FROM chat_exchange e JOIN chat_order o ON o.id = e.order_id \
                 WHERE e.owner_user_id = ? AND o.user_id = e.owner_user_id AND o.status = 2 \
                 AND e.is_deleted = 0 \
                 GROUP BY e.order_id, o.pay_time, o.update_time \
                 HAVING at < ? OR (at = ? AND id < ?) \
                 ORDER BY at DESC, id DESC LIMIT ?"
            }
            Self::Redeemed => {
                "SELECT r.id, r.create_time AS at, CAST(e.reward_use_times AS SIGNED) AS times, \
                 e.name AS label, CAST(NULL AS SIGNED) AS room_id, CAST(NULL AS CHAR) AS answer_id \
                 FROM chat_user_exchange_record r JOIN chat_exchange e ON e.id = r.exchange_id \
                 WHERE r.user_id = ? AND (r.create_time < ? OR (r.create_time = ? AND r.id < ?)) \
                 ORDER BY r.create_time DESC, r.id DESC LIMIT ?"
            }
            Self::Spent => {
                "SELECT m.id, m.create_time AS at, CAST(-1 AS SIGNED) AS times, \
                 room.title AS label, room.id AS room_id, m.message_id AS answer_id \
                 FROM chat_message m \
                 LEFT JOIN chat_room room ON room.id = m.chat_room_id AND room.is_deleted = 0 \
                 WHERE m.user_id = ? AND m.message_type = ? \
                 AND (m.create_time < ? OR (m.create_time = ? AND m.id < ?)) \
                 ORDER BY m.create_time DESC, m.id DESC LIMIT ?"
            }
            Self::Returned => {
                "SELECT m.id, m.update_time AS at, CAST(1 AS SIGNED) AS times, \
                 room.title AS label, room.id AS room_id, m.message_id AS answer_id \
                 FROM chat_message m \
                 LEFT JOIN chat_room room ON room.id = m.chat_room_id AND room.is_deleted = 0 \
                 WHERE m.user_id = ? AND m.message_type = ? AND m.status <> ? AND m.content = '' \
                 AND (m.update_time < ? OR (m.update_time = ? AND m.id < ?)) \
                 ORDER BY m.update_time DESC, m.id DESC LIMIT ?"
            }
            Self::Adjusted => {
                "SELECT a.id, a.create_time AS at, CAST(a.delta AS SIGNED) AS times, \
                 a.reason AS label, CAST(NULL AS SIGNED) AS room_id, CAST(NULL AS CHAR) AS answer_id \
                 FROM chat_times_adjustment a \
                 WHERE a.user_id = ? AND (a.create_time < ? OR (a.create_time = ? AND a.id < ?)) \
                 ORDER BY a.create_time DESC, a.id DESC LIMIT ?"
            }
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    times: i64,
    label: Option<String>,
    room_id: Option<i64>,
    answer_id: Option<String>,
}

/// One change of the chat times.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimesEntry {
    /// Unique within the history: `<kind>:<row id>`.
    id: String,
    /// `bought`, `redeemed`, `spent`, `returned` or `adjusted`.
    kind: &'static str,
    /// The change: +N redeemed, -1 spent, +1 returned, ±N adjusted; for `bought`, the
    /// times the order's codes give once redeemed (the balance is unchanged).
    times: i64,
    /// RFC 3339, UTC.
    created_at: String,
    /// The product name(s) for `bought`/`redeemed`, the conversation title for
    /// `spent`/`returned` (null once the conversation is deleted), the
    /// admin's reason for `adjusted`.
    label: Option<String>,
    /// The conversation of an answer, while it exists.
    room_id: Option<String>,
    /// The answer a time was spent on or returned for.
    answer_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimesHistory {
    items: Vec<TimesEntry>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// 1..=100, default 20.
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Where a page starts: entries strictly before this key.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    at: DateTime<Utc>,
    kind: i64,
    id: i64,
}

impl Cursor {
    /// Before everything: the last instant a MySQL `datetime` holds.
    fn start() -> Self {
        Self {
            at: Utc
                .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .single()
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            kind: i64::MAX,
            id: i64::MAX,
        }
    }

    fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::field("invalid_request", "cursor", "is not a cursor we gave out");
        let mut parts = text.split('_');
        let (Some(ms), Some(kind), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let ms = ms.parse::<i64>().map_err(|_| bad())?;
        let kind = kind.parse::<i64>().map_err(|_| bad())?;
        let id = id.parse::<i64>().map_err(|_| bad())?;
        let at = Utc.timestamp_millis_opt(ms).single().ok_or_else(bad)?;
        Kind::from_rank(kind).ok_or_else(bad)?;
        Ok(Self { at, kind, id })
    }

    fn of(kind: Kind, row: &Row) -> Self {
        Self {
            at: row.at,
            kind: kind.rank(),
            id: row.id,
        }
    }

    fn text(self) -> String {
        format!("{}_{}_{}", self.at.timestamp_millis(), self.kind, self.id)
    }

    /// The `id` bound for rows of `kind` at exactly the cursor's time: all of
    /// them sort before it when their kind ranks lower, none when higher.
    fn id_bound(self, kind: Kind) -> i64 {
        match kind.rank().cmp(&self.kind) {
            std::cmp::Ordering::Less => i64::MAX,
            std::cmp::Ordering::Equal => self.id,
            std::cmp::Ordering::Greater => i64::MIN,
        }
    }

    fn key(self) -> (DateTime<Utc>, i64, i64) {
        (self.at, self.kind, self.id)
    }
}

async fn rows_of(
    db: &MySqlPool,
    kind: Kind,
    user_id: i64,
    before: Cursor,
    limit: u32,
) -> Result<Vec<Row>, sqlx::Error> {
    // As a DATETIME, not a TIMESTAMP: an index range on a datetime column
    // compared with a TIMESTAMP parameter past 2038 finds nothing.
    let at = before.at.naive_utc();
    let id = before.id_bound(kind);
    let q = sqlx::query_as::<_, Row>(kind.sql()).bind(user_id);
    let q = match kind {
        Kind::Bought | Kind::Redeemed | Kind::Adjusted => q,
        Kind::Spent => q.bind(ANSWER),
        Kind::Returned => q.bind(ANSWER).bind(MessageStatus::Streaming.code()),
    };
    q.bind(at).bind(at).bind(id).bind(limit).fetch_all(db).await
}

/// My chat times history: bought, redeemed, spent per answer, returned.
#[utoipa::path(
    get,
    path = "/api/users/me/times-history",
    tag = "accounts",
    security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "Newest first", body = TimesHistory),
        (status = 400, description = "`invalid_request` (limit or cursor)"),
        (status = 401, description = "`unauthorized`"),
    )
)]
pub async fn times_history(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<TimesHistory>, ApiError> {
    let page = PageQuery::new(q.limit, q.cursor.as_deref())?;
    let before = match page.cursor.as_deref() {
        Some(text) => Cursor::parse(text)?,
        None => Cursor::start(),
    };
    // Each kind's newest `limit + 1` before the cursor, merged.
    let fetched = futures::future::try_join_all(
        Kind::ALL.map(|kind| rows_of(&state.db, kind, user.user_id, before, page.limit + 1)),
    )
    .await?;
    let mut merged: Vec<(Kind, Row)> = Kind::ALL
        .into_iter()
        .zip(fetched)
        .flat_map(|(kind, rows)| rows.into_iter().map(move |row| (kind, row)))
        .collect();
    merged.sort_by(|a, b| {
        Cursor::of(b.0, &b.1)
            .key()
            .cmp(&Cursor::of(a.0, &a.1).key())
    });
    let (rows, more) = page.split(merged);
    let next_cursor = more
        .then(|| rows.last().map(|(kind, row)| Cursor::of(*kind, row).text()))
        .flatten();
    Ok(Json(TimesHistory {
        items: rows
            .into_iter()
            .map(|(kind, row)| TimesEntry {
                id: format!("{}:{}", kind.as_str(), row.id),
                kind: kind.as_str(),
                times: row.times,
                created_at: rfc3339(row.at),
                label: row.label,
                room_id: row.room_id.map(|id| id.to_string()),
                answer_id: row.answer_id,
            })
            .collect(),
        next_cursor,
    }))
}
