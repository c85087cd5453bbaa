//! List pages as API.md wants them: `?limit=` (default 20, max 100) and an
//! opaque `next_cursor`.

use chrono::{DateTime, SecondsFormat, Utc};
use paychat_common::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug)]
pub struct PageQuery {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return Err(ApiError::field(
                    "invalid_request",
                    "limit",
                    "must be between 1 and 100",
                ));
            }
        };
        Ok(Self {
            limit,
            cursor: cursor.filter(|c| !c.is_empty()).map(str::to_owned),
        })
    }

    /// Rows were fetched with `limit + 1`: keep `limit`, and say whether more exist.
    pub fn split<T>(&self, mut rows: Vec<T>) -> (Vec<T>, bool) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        (rows, more)
    }

    /// The id the cursor names, for lists paged by id.
    pub fn cursor_id(&self) -> Result<Option<i64>, ApiError> {
        self.cursor.as_deref().map(parse_id).transpose()
    }
}

/// The cursor of the page after `rows` (the last row's id) when more exist.
pub fn next_id_cursor<T>(rows: &[T], more: bool, id: impl Fn(&T) -> i64) -> Option<String> {
    more.then(|| rows.last().map(|row| id(row).to_string()))
        .flatten()
}

/// A cursor or path id that must be one of our numeric ids.
pub fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .map_err(|_| ApiError::field("invalid_request", "cursor", "is not a cursor we gave out"))
}

pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
