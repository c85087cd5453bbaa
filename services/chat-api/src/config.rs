//! chat-api configuration: the shared keys plus this service's own.

use paychat_common::config::{CommonConfig, ConfigError, Problems, load};
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub common: CommonConfig,
    pub chat: ChatConfig,
    pub relay: crate::chat::settings::RelaySettings,
    pub accounts: crate::accounts::config::AccountsConfig,
    pub oauth: crate::oauth::config::OAuthConfig,
    pub avatar: crate::avatars::config::AvatarConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatConfig {
    /// Address the service listens on, e.g. `127.0.0.1:8081` (port 0 in tests).
    pub chat_bind: String,
}

impl Config {
    pub fn load(overrides: &[(&str, String)]) -> Result<Self, ConfigError> {
        let common = CommonConfig::load(overrides)?;
        let chat: ChatConfig = load(overrides)?;
        let mut p = Problems::default();
        p.check(
            chat.chat_bind.parse::<std::net::SocketAddr>().is_ok(),
            "chat_bind",
            "must be an address such as 127.0.0.1:8081",
        );
        p.into_result()?;
        let relay = crate::chat::settings::RelaySettings::load(overrides)?;
        let accounts = crate::accounts::config::AccountsConfig::load(overrides)?;
        let oauth = crate::oauth::config::OAuthConfig::load(overrides)?;
        let avatar = crate::avatars::config::AvatarConfig::load(overrides)?;
        Ok(Self {
            common,
            chat,
            relay,
            accounts,
            oauth,
            avatar,
        })
    }
}
