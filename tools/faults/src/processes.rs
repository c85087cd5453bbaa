//! The processes a fault run owns: its own MariaDB, Redis and RabbitMQ (started and
//! stopped through `scripts/stack.sh` with other ports and `.stack/faults/`), and its
//! own copies of the services and sandbox stand-ins (children of this program, so a
//! `kill -9` is exactly that, and nothing outlives the run).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// Loopback ports of the fault stack, away from the shared stack's and `make run`'s,
/// and below Linux's ephemeral range (32768-60999): a listener restarted there can find
/// its port taken by some client's outgoing connection.
pub mod port {
    pub const DB: u16 = 23306;
    pub const REDIS: u16 = 26379;
    pub const AMQP: u16 = 25672;
    pub const CHAT: u16 = 28081;
    pub const ORDERS: u16 = 28082;
    pub const GATEWAY: u16 = 28083;
    pub const LLM: u16 = 28091;
    pub const ALIPAY: u16 = 28092;
    pub const MAIL_HTTP: u16 = 28025;
    pub const MAIL_SMTP: u16 = 22525;
}

pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

pub async fn port_open(port: u16) -> bool {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
}

/// Waits until `port` accepts connections, at most `limit`.
pub async fn wait_port(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if port_open(port).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The infrastructure of the fault run, driven through `scripts/stack.sh`.
pub struct Stack {
    root: PathBuf,
    pub dir: PathBuf,
}

impl Stack {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            dir: root.join(".stack/faults"),
        }
    }

    async fn script(&self, args: &[&str]) -> anyhow::Result<()> {
        let out = Command::new(self.root.join("scripts/stack.sh"))
            .args(args)
            .env("PAYCHAT_STACK_DIR", &self.dir)
            .env("PAYCHAT_STACK_DB_PORT", port::DB.to_string())
            .env("PAYCHAT_STACK_REDIS_PORT", port::REDIS.to_string())
            .env("PAYCHAT_STACK_AMQP_PORT", port::AMQP.to_string())
            .env("PAYCHAT_STACK_AMQP_DIST_PORT", "25673")
            .env("PAYCHAT_STACK_EPMD_PORT", "24369")
            .env("PAYCHAT_STACK_RABBIT_NODE", "paychat-faults@localhost")
            .env("PAYCHAT_STACK_DB_BUFFER_POOL", "128M")
            .stdin(Stdio::null())
            .output()
            .await
            .context("running scripts/stack.sh")?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            println!("    {line}");
        }
        if !out.status.success() {
            bail!(
                "scripts/stack.sh {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Starts whatever of the three is not running.
    pub async fn up(&self) -> anyhow::Result<()> {
        self.script(&["up"]).await
    }

    pub async fn stop(&self, name: &str) -> anyhow::Result<()> {
        self.script(&["stop", name]).await
    }

    pub async fn down(&self) -> anyhow::Result<()> {
        self.script(&["down"]).await
    }

    /// Deletes Redis's append-only files; call while Redis is stopped.
    pub fn wipe_redis(&self) -> anyhow::Result<()> {
        let dir = self.dir.join("redis");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).context("deleting Redis's data")?;
        }
        Ok(())
    }
}

/// One process the run starts: how to start it, and the child while it runs.
struct Proc {
    port: u16,
    bin: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

/// The services and stand-ins of the run, by name.
pub struct Services {
    bin_dir: PathBuf,
    root: PathBuf,
    log_dir: PathBuf,
    procs: HashMap<&'static str, Proc>,
}

/// Settings every service of the run shares: its own database, Redis prefix and
/// broker prefix, short timers so a run settles in seconds.
fn service_env(db_url: &str, run: &str) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = vec![
        ("DATABASE_URL", db_url.to_owned()),
        ("DATABASE_MAX_CONNECTIONS", "10".into()),
        ("REDIS_URL", format!("redis://127.0.0.1:{}/", port::REDIS)),
        ("REDIS_PREFIX", format!("faults{run}:")),
        (
            "AMQP_URL",
            format!("amqp://paychat:paychat@127.0.0.1:{}/paychat", port::AMQP),
        ),
        ("AMQP_PREFIX", format!("faults{run}")),
        ("LOG_LEVEL", "info".into()),
        ("CHAT_BIND", format!("127.0.0.1:{}", port::CHAT)),
        ("ORDERS_BIND", format!("127.0.0.1:{}", port::ORDERS)),
        ("GATEWAY_BIND", format!("127.0.0.1:{}", port::GATEWAY)),
        ("LLM_BASE_URL", format!("{}/v1", url(port::LLM))),
        ("LLM_MODELS", crate::load::MODELS.join(",")),
        ("LLM_FIRST_BYTE_TIMEOUT_MS", "2000".into()),
        ("LLM_IDLE_TIMEOUT_MS", "5000".into()),
        ("CHAT_REQUESTS_PER_MINUTE", "1000".into()),
        // A stream slot (and an answer a killed copy left open) lapses 15 + 30 + 30 s on.
        ("CHAT_STREAM_MAX_SECS", "30".into()),
        ("SMTP_PORT", port::MAIL_SMTP.to_string()),
        ("PUBLIC_BASE_URL", url(port::CHAT)),
        ("WEB_BASE_URL", url(port::CHAT)),
        ("ADMIN_EMAILS", crate::load::ADMIN_EMAIL.into()),
        ("OIDC_PROVIDERS", String::new()),
        ("GITHUB_CLIENT_ID", String::new()),
        ("REGISTER_LIMIT_IP", "100000".into()),
        ("MAIL_LIMIT_IP", "100000".into()),
        ("LOGIN_FAIL_LIMIT_IP", "100000".into()),
        ("PASSWORD_HASH_QUEUE_MS", "15000".into()),
        (
            "PAYMENT_WINDOW_SECS",
            crate::invariants::PAYMENT_WINDOW_SECS.to_string(),
        ),
        (
            "SWEEPER_INTERVAL_SECS",
            crate::invariants::SWEEPER_INTERVAL_SECS.to_string(),
        ),
        (
            "SWEEPER_GRACE_SECS",
            crate::invariants::SWEEPER_GRACE_SECS.to_string(),
        ),
        ("RECONCILE_INTERVAL_SECS", "5".into()),
        ("RECONCILE_AFTER_SECS", "10".into()),
        ("RECONCILE_CLOSED_GRACE_SECS", "20".into()),
        ("FULFILMENT_RETRY_INTERVAL_SECS", "5".into()),
        ("STOCK_RECONCILE_INTERVAL_SECS", "10".into()),
        ("GATEWAY_URL", url(port::GATEWAY)),
        (
            "ALIPAY_GATEWAY_URL",
            format!("{}/gateway.do", url(port::ALIPAY)),
        ),
        (
            "ALIPAY_NOTIFY_URL",
            format!("{}/api/alipay/notify", url(port::GATEWAY)),
        ),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (format!("PAYCHAT_{k}"), v))
        .collect()
}

impl Services {
    pub fn new(root: &Path, stack_dir: &Path, db_url: &str, run: &str) -> anyhow::Result<Self> {
        let bin_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("debug");
        let log_dir = stack_dir.join("logs");
        std::fs::create_dir_all(&log_dir).context("creating the log folder")?;
        let env = service_env(db_url, run);
        let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
        let mut procs = HashMap::new();
        let mut add = |name, port, bin, args, env| {
            procs.insert(
                name,
                Proc {
                    port,
                    bin,
                    args,
                    env,
                    child: None,
                },
            );
        };
        add(
            "sandbox-mail",
            port::MAIL_HTTP,
            "paychat-sandbox-mail",
            vec![],
            vec![
                (
                    "PAYCHAT_SANDBOX_MAIL_SMTP".into(),
                    format!("127.0.0.1:{}", port::MAIL_SMTP),
                ),
                (
                    "PAYCHAT_SANDBOX_MAIL_HTTP".into(),
                    format!("127.0.0.1:{}", port::MAIL_HTTP),
                ),
            ],
        );
        // Answers of 12 chunks 30 ms apart: long enough for a kill to catch some mid-stream.
        let llm_listen = format!("127.0.0.1:{}", port::LLM);
        add(
            "sandbox-llm",
            port::LLM,
            "paychat-sandbox-llm",
            s(&[
                "--listen",
                &llm_listen,
                "--chunk-delay-ms",
                "30",
                "--chunks",
                "12",
            ]),
            vec![],
        );
        // Notify retries 60 times faster than Alipay's schedule (4 s, 10 s, ...).
        let alipay_listen = format!("127.0.0.1:{}", port::ALIPAY);
        add(
            "sandbox-alipay",
            port::ALIPAY,
            "paychat-sandbox-alipay",
            s(&["--listen", &alipay_listen, "--retry-scale", "60"]),
            vec![],
        );
        add(
            "chat-api",
            port::CHAT,
            "paychat-chat-api",
            vec![],
            env.clone(),
        );
        add(
            "orders",
            port::ORDERS,
            "paychat-orders",
            vec![],
            env.clone(),
        );
        add(
            "payment-gateway",
            port::GATEWAY,
            "paychat-payment-gateway",
            vec![],
            env,
        );
        Ok(Self {
            bin_dir,
            root: root.to_owned(),
            log_dir,
            procs,
        })
    }

    /// Starts `name` and waits for its port (and `/readyz` for a service).
    pub async fn start(&mut self, name: &str) -> anyhow::Result<()> {
        let log_dir = self.log_dir.clone();
        let p = self
            .procs
            .get_mut(name)
            .with_context(|| format!("no process {name}"))?;
        if port_open(p.port).await {
            bail!("port {} is taken; {name} cannot start", p.port);
        }
        let bin = self.bin_dir.join(p.bin);
        if !bin.exists() {
            bail!(
                "{} is missing: build it with cargo build --workspace --bins",
                bin.display()
            );
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join(format!("{name}.log")))
            .context("opening the log")?;
        let child = Command::new(&bin)
            .args(&p.args)
            .envs(p.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        p.child = Some(child);
        let port = p.port;
        if !wait_port(port, Duration::from_secs(90)).await {
            bail!("{name} did not open port {port} (log: .stack/faults/logs/{name}.log)");
        }
        if !name.starts_with("sandbox") {
            wait_ready(port, Duration::from_secs(60)).await;
        }
        Ok(())
    }

    /// `kill -9` of `name`, then waits for it to be gone.
    pub async fn kill9(&mut self, name: &str) -> anyhow::Result<()> {
        let p = self
            .procs
            .get_mut(name)
            .with_context(|| format!("no process {name}"))?;
        if let Some(mut child) = p.child.take() {
            // tokio's kill sends SIGKILL: no shutdown hook runs.
            child.kill().await.context("kill -9")?;
        }
        Ok(())
    }

    /// Stops everything this run started (SIGKILL; they hold nothing worth draining now).
    pub async fn stop_all(&mut self) {
        for p in self.procs.values_mut() {
            if let Some(mut child) = p.child.take() {
                let _ = child.kill().await;
            }
        }
    }
}

/// Waits for `/readyz` to answer 200 (its database, Redis and broker reachable).
pub async fn wait_ready(port: u16, limit: Duration) -> bool {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_default();
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(r) = http.get(format!("{}/readyz", url(port))).send().await
            && r.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}
