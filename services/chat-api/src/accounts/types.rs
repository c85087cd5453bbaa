//! Request and response bodies of the accounts routes (API.md's shapes).

use chrono::{DateTime, SecondsFormat, Utc};
use paychat_common::auth::Role;
use paychat_common::locale::Locale;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::queries::UserRow;

/// API.md's `user`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// A 64-bit id, as a string.
    pub id: String,
    pub email: String,
    pub nickname: String,
    pub description: Option<String>,
    pub role: Role,
    pub can_conversation_times: i32,
    pub last_login_ip: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The user's language, `zh-CN` or `en`: their email is written in it.
    pub locale: Locale,
    /// The avatar's URL, carrying its version (a new upload, a new URL); null without one.
    pub avatar_url: Option<String>,
}

/// A `locale` field of a request: `zh-CN` or `en` (any Chinese or English tag).
pub fn parse_locale(value: &str) -> Result<Locale, paychat_common::ApiError> {
    Locale::parse(value).ok_or_else(|| {
        paychat_common::ApiError::field("invalid_request", "locale", "must be zh-CN or en")
    })
}

pub fn role_from_db(role: &str) -> Role {
    if role == "admin" {
        Role::Admin
    } else {
        Role::User
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id.to_string(),
            email: row.email,
            nickname: row.nickname,
            description: row.description,
            role: role_from_db(&row.role),
            can_conversation_times: row.can_conversation_times,
            last_login_ip: row.last_login_ip,
            created_at: rfc3339(row.create_time),
            locale: Locale::from_db(&row.locale),
            avatar_url: crate::avatars::url(row.id, row.avatar_version),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    /// At most 16 characters; defaults to the address's local part.
    #[serde(default)]
    pub nickname: Option<String>,
    /// `zh-CN` or `en` (the web app's language); without it, the request's
    /// `Accept-Language` decides, else `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token for `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: String,
    pub user: User,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetConfirmRequest {
    /// The code from the reset email's link.
    pub code: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMeRequest {
    /// 1 to 16 characters.
    #[serde(default)]
    pub nickname: Option<String>,
    /// At most 64 characters; empty clears it.
    #[serde(default)]
    pub description: Option<String>,
    /// `zh-CN` or `en`: the language of the user's email.
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}
