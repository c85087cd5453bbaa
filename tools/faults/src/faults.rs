//! The faults, injected one after another, each announced and timed. A fault's
//! window runs from its announcement until the system answers again plus a short
//! grace; a 5xx inside a window is the fault's, outside one it is a violation.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::load::{MODELS, Shared};
use crate::processes::{Services, Stack, port, wait_ready};

/// After a fault is over, pools reconnect and consumers re-subscribe: 5xx in
/// this time still count as the fault's.
const RECOVERY_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    KillOrders,
    KillGateway,
    KillChat,
    RabbitStopped,
    RedisRestart,
    RedisRestartEmpty,
    MariadbRestart,
    NotifyDrop,
    NotifyDuplicate,
    NotifyDelay,
    NotifyReorder,
    LlmCut,
    LlmSlowHeaders,
}

impl Fault {
    pub const ALL: [Self; 13] = [
        Self::KillOrders,
        Self::KillGateway,
        Self::KillChat,
        Self::RabbitStopped,
        Self::RedisRestart,
        Self::RedisRestartEmpty,
        Self::MariadbRestart,
        Self::NotifyDrop,
        Self::NotifyDuplicate,
        Self::NotifyDelay,
        Self::NotifyReorder,
        Self::LlmCut,
        Self::LlmSlowHeaders,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Self::KillOrders => "kill -9 orders, restart after 3 s",
            Self::KillGateway => "kill -9 payment-gateway, restart after 3 s",
            Self::KillChat => "kill -9 chat-api, restart after 3 s",
            Self::RabbitStopped => "RabbitMQ stopped 20 s, then started",
            Self::RedisRestart => "Redis restarted (append-only, everysec)",
            Self::RedisRestartEmpty => "Redis restarted empty",
            Self::MariadbRestart => "MariaDB restarted",
            Self::NotifyDrop => "Alipay notifies dropped for 12 s",
            Self::NotifyDuplicate => "Alipay notifies duplicated for 12 s",
            Self::NotifyDelay => "Alipay notifies delayed 8 s, for 12 s",
            Self::NotifyReorder => "Alipay notifies out of order (0-6 s jitter) for 12 s",
            Self::LlmCut => "LLM upstream cut mid-answer for 12 s",
            Self::LlmSlowHeaders => "LLM upstream 4 s slow to send headers for 12 s",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Window {
    pub fault: Fault,
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn contains(&self, t: Instant) -> bool {
        t >= self.start && t <= self.end
    }
}

pub struct Injector<'a> {
    pub stack: &'a Stack,
    pub services: &'a mut Services,
    pub shared: Arc<Shared>,
    pub began: Instant,
}

const HOLD: Duration = Duration::from_secs(12);

impl Injector<'_> {
    /// Injects `fault`, waits for the system to answer again, and returns its window.
    pub async fn inject(&mut self, fault: Fault) -> anyhow::Result<Window> {
        let start = Instant::now();
        println!(
            "==> [{:>6.1}s] fault: {}",
            (start - self.began).as_secs_f64(),
            fault.describe()
        );
        match fault {
            Fault::KillOrders => self.kill_restart("orders", port::ORDERS).await?,
            Fault::KillGateway => self.kill_restart("payment-gateway", port::GATEWAY).await?,
            Fault::KillChat => self.kill_restart("chat-api", port::CHAT).await?,
            Fault::RabbitStopped => {
                self.stack.stop("rabbitmq").await?;
                tokio::time::sleep(Duration::from_secs(20)).await;
                self.stack.up().await?;
                self.all_ready().await;
            }
            Fault::RedisRestart => {
                self.stack.stop("redis").await?;
                self.stack.up().await?;
                self.all_ready().await;
            }
            Fault::RedisRestartEmpty => {
                self.stack.stop("redis").await?;
                self.stack.wipe_redis()?;
                self.stack.up().await?;
                self.all_ready().await;
            }
            Fault::MariadbRestart => {
                self.stack.stop("mariadb").await?;
                self.stack.up().await?;
                self.all_ready().await;
            }
            Fault::NotifyDrop => self.notify_faults(json!({"drop": true})).await?,
            Fault::NotifyDuplicate => self.notify_faults(json!({"duplicate": true})).await?,
            Fault::NotifyDelay => self.notify_faults(json!({"delay_ms": 8000})).await?,
            Fault::NotifyReorder => self.notify_faults(json!({"reorder_ms": 6000})).await?,
            Fault::LlmCut => self.llm_model(crate::load::LLM_CUT).await,
            Fault::LlmSlowHeaders => self.llm_model(crate::load::LLM_SLOW_HEADERS).await,
        }
        let recovered = Instant::now();
        println!(
            "    recovered after {:.1}s",
            (recovered - start).as_secs_f64()
        );
        Ok(Window {
            fault,
            start,
            end: recovered + RECOVERY_GRACE,
        })
    }

    async fn kill_restart(&mut self, name: &str, port: u16) -> anyhow::Result<()> {
        self.services.kill9(name).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        self.services.start(name).await?;
        wait_ready(port, Duration::from_secs(60)).await;
        Ok(())
    }

    async fn all_ready(&self) {
        for p in [port::CHAT, port::ORDERS, port::GATEWAY] {
            if !wait_ready(p, Duration::from_secs(90)).await {
                println!("    warning: port {p} not ready 90 s after the fault");
            }
        }
    }

    async fn notify_faults(&self, switches: serde_json::Value) -> anyhow::Result<()> {
        let api = &self.shared.api;
        let set = |v: serde_json::Value| {
            api.http
                .post(format!("{}/sim/notify-faults", api.alipay))
                .json(&v)
                .send()
        };
        set(switches).await?.error_for_status()?;
        tokio::time::sleep(HOLD).await;
        set(json!({})).await?.error_for_status()?;
        // Delayed and jittered notifies are still in flight: their window lasts.
        tokio::time::sleep(Duration::from_secs(8)).await;
        Ok(())
    }

    async fn llm_model(&self, model: &str) {
        let index = MODELS.iter().position(|m| *m == model).unwrap_or(0);
        self.shared
            .model
            .store(u8::try_from(index).unwrap_or(0), Ordering::Relaxed);
        tokio::time::sleep(HOLD).await;
        self.shared.model.store(0, Ordering::Relaxed);
        // Streams begun with the fault model end within their timeouts.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
