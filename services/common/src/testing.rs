//! Helpers for integration tests against the real local stack: a fresh
//! database per test (migrated), unique Redis/AMQP prefixes, unique addresses,
//! free ports, and the sandbox stand-ins run as processes of their own (a
//! service never links a sandbox). The stack's admin URL comes from
//! `PAYCHAT_TEST_DATABASE_URL`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use sqlx::Connection;
use sqlx::mysql::MySqlConnection;

pub const DEFAULT_DATABASE_URL: &str = "mysql://paychat:paychat@127.0.0.1:33306/paychat";

fn base_url() -> String {
    std::env::var("PAYCHAT_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into())
}

/// A short random token for names that must not collide between tests.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..16])
}

/// Whether `check` comes true within `limit`, asked every 100 ms: for what
/// lands a moment later by design (a message through the broker, a save in a
/// task of its own, a readiness probe whose checks each have a second on a busy
/// machine), never for what must hold at once.
pub async fn eventually<F, Fut>(limit: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    check().await
}

/// Creates `paychat_test_<random>`, applies the migrations and returns its URL.
pub async fn fresh_database() -> anyhow::Result<String> {
    let url = empty_database().await?;
    let pool = sqlx::MySqlPool::connect(&url).await?;
    crate::db::migrate(&pool).await?;
    pool.close().await;
    Ok(url)
}

/// Creates `paychat_test_<random>` without any table and returns its URL.
pub async fn empty_database() -> anyhow::Result<String> {
    let base = base_url();
    let name = unique("paychat_test_");
    let mut conn = MySqlConnection::connect(&base)
        .await
        .context("connecting to the test MariaDB (is the stack up? `make stack`)")?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )))
    .execute(&mut conn)
    .await
    .context("creating the test database")?;
    let (root, _) = base
        .rsplit_once('/')
        .context("PAYCHAT_TEST_DATABASE_URL has no database part")?;
    Ok(format!("{root}/{name}"))
}

/// A port free at the time of asking, for a process that must be told its
/// port before it starts.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")
        .context("binding a probe port")?
        .local_addr()?
        .port())
}

/// `target/debug/<name>` of this workspace (or of `CARGO_TARGET_DIR`); an
/// error saying how to build it if it is missing. Tests run the sandboxes from
/// there rather than building them, so build them first.
pub fn target_binary(name: &str) -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    let binary = target.join("debug").join(name);
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: build it first with `cargo build -p {name}`",
        binary.display()
    );
    Ok(binary)
}

/// The repository's root.
pub const REPO_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Overrides that load a service's configuration from the repository's
/// defaults file with its sandbox key files as absolute paths, whatever the
/// working directory. A service ignores the keys it does not read.
pub fn repo_config() -> Vec<(&'static str, String)> {
    let mut overrides = vec![(
        crate::config::CONFIG_FILE_KEY,
        format!("{REPO_ROOT}/config/default.toml"),
    )];
    for (key, file) in [
        (
            "orders_envelope_private_key_file",
            "orders_envelope_private.pem",
        ),
        (
            "gateway_envelope_public_key_file",
            "gateway_envelope_public.pem",
        ),
        (
            "gateway_envelope_private_key_file",
            "gateway_envelope_private.pem",
        ),
        (
            "orders_envelope_public_key_file",
            "orders_envelope_public.pem",
        ),
        ("alipay_app_private_key_file", "merchant_app_private.pem"),
        ("alipay_public_key_file", "alipay_public.pem"),
    ] {
        overrides.push((key, sandbox_key_path(file)));
    }
    overrides
}

/// The sandbox keys and certificates (`deploy/sandbox-keys/`).
pub const SANDBOX_KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/sandbox-keys/");

/// The path of a file in [`SANDBOX_KEYS`].
pub fn sandbox_key_path(name: &str) -> String {
    format!("{SANDBOX_KEYS}{name}")
}

/// The contents of a file in [`SANDBOX_KEYS`].
pub fn sandbox_key(name: &str) -> anyhow::Result<String> {
    let path = sandbox_key_path(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
}

/// The merchant the sandbox Alipay knows.
pub const SANDBOX_ALIPAY_APP_ID: &str = "2021000000000001";
pub const SANDBOX_ALIPAY_SELLER_ID: &str = "2088000000000001";

/// A sandbox process; killed (by its own handle) when dropped.
pub struct SandboxProcess {
    child: Child,
    /// Where it listens, e.g. `http://127.0.0.1:40123`.
    pub base: String,
}

impl SandboxProcess {
    /// Starts `target/debug/<binary>` with `args` (which should make it listen
    /// on port 0) and waits for the first line it prints, which must end with
    /// the URL it listens on (`... listening on http://127.0.0.1:40123`).
    pub fn spawn(binary: &str, args: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(target_binary(binary)?)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        // Owned from here on, so an early return below still kills the process.
        let stdout = child.stdout.take();
        let mut process = Self {
            child,
            base: String::new(),
        };
        let mut line = String::new();
        BufReader::new(stdout.context("no stdout")?)
            .read_line(&mut line)
            .with_context(|| format!("reading the first line of {binary}"))?;
        process.base = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|url| url.starts_with("http://"))
            .with_context(|| format!("unexpected first line from {binary}: {line:?}"))?
            .to_owned();
        Ok(process)
    }

    /// The sandbox Alipay on a free port, knowing the merchant's public key
    /// and signing with the sandbox Alipay key; notify retries run 1000 times
    /// faster than Alipay's real schedule.
    pub fn alipay() -> anyhow::Result<Self> {
        Self::spawn(
            "paychat-sandbox-alipay",
            &[
                "--listen",
                "127.0.0.1:0",
                "--retry-scale",
                "1000",
                "--merchant-public-key",
                &sandbox_key_path("merchant_app_public.pem"),
                "--alipay-private-key",
                &sandbox_key_path("alipay_private.pem"),
                "--seller-id",
                SANDBOX_ALIPAY_SELLER_ID,
            ],
        )
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seed nodes of the test Redis Cluster that `scripts/cluster.sh redis-up`
/// starts (`make test` starts it and sets `PAYCHAT_TEST_REDIS_CLUSTER`).
pub const DEFAULT_REDIS_CLUSTER: &str =
    "redis://127.0.0.1:37101,redis://127.0.0.1:37102,redis://127.0.0.1:37103";

/// The test Redis Cluster's seed nodes, comma-separated, or None when no
/// cluster is configured and none answers on the default ports (a developer
/// who has not run `scripts/cluster.sh redis-up`): the caller then skips,
/// saying so. With `PAYCHAT_TEST_REDIS_CLUSTER` set, as `make test` sets it, a
/// missing cluster fails instead.
pub fn redis_cluster_nodes() -> Option<String> {
    if let Ok(nodes) = std::env::var("PAYCHAT_TEST_REDIS_CLUSTER") {
        return Some(nodes);
    }
    let probe = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 37101)),
        std::time::Duration::from_millis(300),
    );
    if probe.is_ok() {
        Some(DEFAULT_REDIS_CLUSTER.to_owned())
    } else {
        eprintln!(
            "SKIPPED: no Redis Cluster on 127.0.0.1:37101 and PAYCHAT_TEST_REDIS_CLUSTER unset \
             (start one with scripts/cluster.sh redis-up; make test does)"
        );
        None
    }
}

/// A handle on the test Redis Cluster (see [`redis_cluster_nodes`]).
pub fn redis_cluster() -> Option<crate::redis::Redis> {
    let nodes = redis_cluster_nodes()?;
    let nodes: Vec<secrecy::SecretString> = crate::config::split_list(&nodes)
        .map(|n| secrecy::SecretString::from(n.to_owned()))
        .collect();
    Some(crate::redis::connect_cluster(&nodes).expect("test Redis Cluster nodes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_binary_says_how_to_build_it() {
        let Err(e) = target_binary("paychat-no-such-binary") else {
            panic!("found a binary that does not exist");
        };
        assert!(
            e.to_string()
                .contains("cargo build -p paychat-no-such-binary"),
            "{e}"
        );
    }

    #[test]
    fn the_sandbox_keys_are_there() -> anyhow::Result<()> {
        assert!(sandbox_key("merchant_app_public.pem")?.contains("PUBLIC KEY"));
        Ok(())
    }
}
