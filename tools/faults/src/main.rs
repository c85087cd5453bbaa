//! `faults`: the fault matrix. Starts its own MariaDB, Redis and RabbitMQ (under
//! `.stack/faults/`, other ports: it kills them, so never the shared stack's) and its
//! own copies of the services and sandbox stand-ins, drives a mixed load while
//! injecting faults one after another, lets the system settle, and checks the books.
//!
//!   faults --short       one pass of each fault, light load (inside `make test`)
//!   faults [--passes N]  the long form (`make faults`): several passes, more load
//!   --users N            buyers at once; --keep-stack leaves the infrastructure up
//!
//! Exits 1 when any invariant is violated.

mod api;
mod faults;
mod invariants;
mod load;
mod processes;
mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::faults::{Fault, Injector};
use crate::processes::{Services, Stack, port};

struct Plan {
    passes: usize,
    users: usize,
    stock: u32,
    gap: Duration,
    settle: Duration,
    pace_ms: std::ops::Range<u64>,
    keep_stack: bool,
}

fn plan() -> anyhow::Result<Plan> {
    let mut p = Plan {
        passes: 3,
        users: 8,
        stock: 2000,
        gap: Duration::from_secs(4),
        settle: Duration::from_secs(180),
        pace_ms: 400..1200,
        keep_stack: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> anyhow::Result<usize> {
            args.next()
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--short" => {
                p.passes = 1;
                p.users = 5;
                p.stock = 500;
                p.gap = Duration::from_secs(1);
                p.settle = Duration::from_secs(90);
                p.pace_ms = 500..1500;
            }
            "--passes" => p.passes = number("--passes")?.max(1),
            "--users" => p.users = number("--users")?.max(1),
            "--keep-stack" => p.keep_stack = true,
            _ => anyhow::bail!("usage: faults [--short] [--passes N] [--users N] [--keep-stack]"),
        }
    }
    Ok(p)
}

fn step(began: Instant, what: &str) {
    println!("==> [{:>6.1}s] {what}", began.elapsed().as_secs_f64());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    match run().await {
        Ok(0) => println!("fault matrix: 0 violations"),
        Ok(n) => {
            println!("fault matrix: {n} violations");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("fault matrix failed: {e:#}");
            std::process::exit(2);
        }
    }
}

async fn run() -> anyhow::Result<usize> {
    let plan = plan()?;
    let began = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().context("finding the checkout")?;
    let stack = Stack::new(&root);
    step(
        began,
        "starting the fault stack's own MariaDB 23306, Redis 26379, RabbitMQ 25672 (.stack/faults/)",
    );
    stack.up().await?;
    let outcome = on_stack(&plan, began, &root, &stack).await;
    if !plan.keep_stack {
        step(began, "stopping the fault stack");
        stack.down().await?;
    }
    outcome
}

/// Everything after the stack is up; the caller stops the stack however this ends.
async fn on_stack(
    plan: &Plan,
    began: Instant,
    root: &std::path::Path,
    stack: &Stack,
) -> anyhow::Result<usize> {
    let run_id = chrono::Utc::now().format("%m%d%H%M%S").to_string();
    let db_name = format!("paychat_test_faults_{run_id}");
    let server = format!("mysql://paychat:paychat@127.0.0.1:{}", port::DB);
    {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&format!("{server}/")).await?;
        let old: Vec<(String,)> =
            sqlx::query_as("SHOW DATABASES LIKE 'paychat\\_test\\_faults\\_%'")
                .fetch_all(&mut conn)
                .await?;
        for (name,) in old {
            // Names come from SHOW DATABASES and our own timestamp.
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`")))
                .execute(&mut conn)
                .await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )))
        .execute(&mut conn)
        .await?;
    }
    let redis = redis::Client::open(format!("redis://127.0.0.1:{}/", port::REDIS))?;
    {
        // Our own Redis: nothing of an earlier run is worth keeping.
        let mut c = redis.get_multiplexed_async_connection().await?;
        let () = redis::cmd("FLUSHALL").query_async(&mut c).await?;
    }
    let db_url = format!("{server}/{db_name}");
    let mut services = Services::new(root, &stack.dir, &db_url, &run_id)?;
    let mut outcome = Ok(0);
    for name in [
        "sandbox-mail",
        "sandbox-llm",
        "sandbox-alipay",
        "chat-api",
        "orders",
        "payment-gateway",
    ] {
        step(began, &format!("starting {name}"));
        if let Err(e) = services.start(name).await {
            outcome = Err(e);
            break;
        }
    }
    if outcome.is_ok() {
        outcome = drive(plan, began, stack, &mut services, &redis, &db_url, &run_id).await;
    }
    step(began, "stopping the run's services");
    services.stop_all().await;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    plan: &Plan,
    began: Instant,
    stack: &Stack,
    services: &mut Services,
    redis: &redis::Client,
    db_url: &str,
    run_id: &str,
) -> anyhow::Result<usize> {
    let api = api::Api::new()?;
    step(began, "admin signs up; products created");
    let admin = load::admin_token(&api).await?;
    let products = load::create_products(&api, &admin, plan.stock).await?;
    let initial_stock: HashMap<i64, i64> = products
        .iter()
        .map(|id| (*id, i64::from(plan.stock)))
        .collect();
    let shared = Arc::new(load::Shared {
        api,
        run: run_id.to_owned(),
        products,
        model: AtomicU8::new(0),
        stop: AtomicBool::new(false),
        counters: load::Counters::default(),
        pace_ms: plan.pace_ms.clone(),
    });
    step(began, &format!("load starts: {} buyers", plan.users));
    let users: Vec<_> = (0..plan.users)
        .map(|i| tokio::spawn(load::run_user(shared.clone(), i)))
        .collect();
    tokio::time::sleep(Duration::from_secs(5)).await;

    let mut windows = Vec::new();
    let mut rows = Vec::new();
    for pass in 1..=plan.passes {
        step(began, &format!("pass {pass} of {}", plan.passes));
        // The first pass also owns the sign-ups of the warm-up.
        let before = if pass == 1 {
            load::Counts::default()
        } else {
            shared.counters.snapshot()
        };
        let pass_start = Instant::now();
        let mut injector = Injector {
            stack,
            services: &mut *services,
            shared: shared.clone(),
            began,
        };
        let first = windows.len();
        for fault in Fault::ALL {
            windows.push(injector.inject(fault).await?);
            tokio::time::sleep(plan.gap).await;
        }
        let c = shared.counters.snapshot().minus(before);
        println!(
            "    pass {pass}: orders {}, payments {}, chats {}, redemptions {}, closes {}",
            c.orders, c.payments, c.chats, c.redemptions, c.closes
        );
        let errors = shared.api.server_errors();
        let in_windows = errors
            .iter()
            .filter(|e| e.at >= pass_start && windows[first..].iter().any(|w| w.contains(e.at)))
            .count();
        rows.push(report::PassRow {
            pass,
            faults: windows.len() - first,
            kinds: windows[first..]
                .iter()
                .map(|w| w.fault)
                .collect::<std::collections::HashSet<_>>()
                .len(),
            counts: c,
            errors_in_windows: in_windows,
            seconds: pass_start.elapsed().as_secs_f64(),
        });
    }
    step(began, "load stops");
    shared.stop.store(true, Ordering::Relaxed);
    for u in users {
        let _ = tokio::time::timeout(Duration::from_secs(40), u).await;
    }

    let db = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .connect(db_url)
        .await?;
    let prefix = format!("faults{run_id}:");
    let books = invariants::Books {
        db: &db,
        redis,
        redis_prefix: &prefix,
        http: &shared.api.http,
        alipay: &shared.api.alipay,
        initial_stock: &initial_stock,
        admin_email: load::ADMIN_EMAIL,
    };
    step(
        began,
        &format!(
            "settling (at most {} s), then checking the books",
            plan.settle.as_secs()
        ),
    );
    let settle_start = Instant::now();
    // Orders placed just before the load stopped must reach their window's end,
    // the sweeper's grace and its next pass before "none overdue" means anything.
    let least = Duration::from_secs(
        invariants::PAYMENT_WINDOW_SECS
            + invariants::SWEEPER_GRACE_SECS
            + invariants::SWEEPER_INTERVAL_SECS
            + 2,
    );
    let mut outcomes = books.check().await?;
    loop {
        let left: usize = outcomes.iter().map(|o| o.violations).sum();
        let waited = settle_start.elapsed();
        if (left == 0 && waited >= least) || waited >= plan.settle {
            break;
        }
        if left == 0 {
            println!(
                "    [{:>5.1}s] books balance; waiting for the last orders' windows to end",
                waited.as_secs_f64()
            );
        } else {
            println!(
                "    [{:>5.1}s] {left} not settled yet",
                waited.as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        outcomes = books.check().await?;
    }
    step(
        began,
        &format!(
            "settled after {:.0} s",
            settle_start.elapsed().as_secs_f64()
        ),
    );
    outcomes.push(invariants::server_errors_outside(
        &shared.api.server_errors(),
        &windows,
    ));
    report::invariants(&outcomes);
    let violations = outcomes.iter().map(|o| o.violations).sum();
    report::table(&rows, violations);
    Ok(violations)
}
