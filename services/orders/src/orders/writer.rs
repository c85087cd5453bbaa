//! Group commit of new orders. Requests that have passed their checks and
//! reserved their stock hand their rows to a writer task; the writer takes
//! every order waiting (up to [`MAX_BATCH`], waiting at most [`WINDOW`] for
//! more) and writes them all in one transaction with one multi-row INSERT per
//! table, so a burst of orders costs one commit instead of one each.
//!
//! A request is answered only after its own order is committed. When a batch
//! fails (one order's duplicate idempotency key or second unpaid order fails
//! the whole statement) its orders are written again one by one, so each gets
//! the answer it would have had alone. An order that is not written gets its
//! Redis stock back here, exactly once (the give-back guard), even when its
//! request is gone.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::OrderError;
use super::queries::{self, OrderRecord};
use crate::stock::Stock;

/// Orders written in one transaction at most: one request per concurrent
/// buyer of the benchmark's 64, and far below MariaDB's placeholder limit.
pub const MAX_BATCH: usize = 64;

/// How long a writer waits for more orders after the first one. Under load the
/// orders that arrive while the previous batch commits fill the next batch
/// anyway; alone, an order waits no longer than this.
pub const WINDOW: Duration = Duration::from_millis(1);

/// Writer tasks: while one commits, the next collects its batch. On the
/// two-core benchmark machine one writer gave about a fifth fewer orders per
/// second and three no more than two.
pub const WRITERS: usize = 2;

/// Batch shapes differ only in their row count: one prepared statement per
/// table and size, kept for the life of the connection.
const STATEMENT_CACHE: usize = 6 * MAX_BATCH;

struct Job {
    record: OrderRecord,
    answer: oneshot::Sender<Result<(), OrderError>>,
}

#[derive(Clone)]
pub struct OrderWriter {
    jobs: mpsc::Sender<Job>,
    stock: Stock,
}

impl OrderWriter {
    /// Starts the writer tasks on connections of their own (the request pool
    /// keeps serving reads); they end when the last `OrderWriter` is dropped.
    pub fn spawn(db: &MySqlPool, stock: Stock) -> Self {
        let options = (*db.connect_options())
            .clone()
            .statement_cache_capacity(STATEMENT_CACHE);
        // A writer's connection is busy all the time under load: a ping
        // before each batch would be one more round trip for nothing.
        let pool = paychat_common::db::ping_when_idle(MySqlPoolOptions::new())
            .max_connections(u32::try_from(WRITERS).unwrap_or(1))
            .acquire_timeout(db.options().get_acquire_timeout())
            .connect_lazy_with(options);
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..WRITERS {
            tokio::spawn(run(queue.clone(), pool.clone(), stock.clone()));
        }
        Self { jobs, stock }
    }

    /// Writes the order; Ok once it is committed. On an error nothing of it
    /// was committed and its reservation has been given back.
    pub async fn write(&self, record: OrderRecord) -> Result<(), OrderError> {
        let (answer, answered) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(Job { record, answer }).await {
            give_back(&self.stock, &job.record).await;
            return Err(anyhow::anyhow!("the order writer has stopped").into());
        }
        answered.await.unwrap_or_else(|_| {
            // Whether it committed is unknown, so its units stay taken; the
            // scheduled reconciliation gives them back if it did not.
            crate::stock::giveback_failed("writer_dropped");
            Err(anyhow::anyhow!("the order writer dropped an order").into())
        })
    }
}

async fn run(queue: Arc<Mutex<mpsc::Receiver<Job>>>, pool: MySqlPool, stock: Stock) {
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        {
            let mut queue = queue.lock().await;
            if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
            let deadline = tokio::time::Instant::now() + WINDOW;
            while batch.len() < MAX_BATCH {
                let room = MAX_BATCH - batch.len();
                match tokio::time::timeout_at(deadline, queue.recv_many(&mut batch, room)).await {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        write_jobs(&pool, &stock, batch).await;
    }
}

async fn write_jobs(pool: &MySqlPool, stock: &Stock, jobs: Vec<Job>) {
    let records: Vec<&OrderRecord> = jobs.iter().map(|j| &j.record).collect();
    metrics::histogram!("order_batch_size").record(records.len() as f64);
    let failure = match write_batch(pool, &records).await {
        Ok(()) => {
            for job in jobs {
                let _ = job.answer.send(Ok(()));
            }
            return;
        }
        Err(failure) => failure,
    };
    // A lost answer to COMMIT leaves the batch maybe written: what is in the
    // database is written; while that cannot be known the stock stays held (a
    // reconciliation repairs a count, a unit given back after all would be
    // sold twice) and the buyer's retry with the same key finds the order.
    let committed = if failure.at_commit {
        let ids: Vec<i64> = records.iter().map(|r| r.row.id).collect();
        match queries::existing_orders(pool, &ids).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "order batch outcome unknown");
                for job in jobs {
                    let _ = job.answer.send(Err(OrderError::Internal(anyhow::anyhow!(
                        "order {} may not have been written",
                        job.record.row.id
                    ))));
                }
                return;
            }
        }
    } else {
        HashSet::new()
    };
    drop(records);
    // A single order that failed before COMMIT has its answer already.
    let mut alone_failed = (jobs.len() == 1 && !failure.at_commit && !is_deadlock(&failure.error))
        .then_some(failure.error);
    if alone_failed.is_none() {
        metrics::counter!("order_batch_fallbacks_total").increment(1);
        tracing::debug!(
            orders = jobs.len(),
            "order batch failed; writing its orders one by one"
        );
    }
    for job in jobs {
        let outcome = if committed.contains(&job.record.row.id) {
            Alone::Written
        } else if let Some(error) = alone_failed.take() {
            Alone::NotWritten(error)
        } else {
            write_alone(pool, &job.record).await
        };
        let result = match outcome {
            Alone::Written => Ok(()),
            Alone::NotWritten(e) => {
                give_back(stock, &job.record).await;
                Err(OrderError::Internal(e.into()))
            }
            Alone::Unknown(e) => {
                crate::stock::giveback_failed("writer_unknown");
                tracing::error!(
                    order_id = job.record.row.id,
                    error = format!("{e:#}"),
                    "order outcome unknown; its stock stays held"
                );
                Err(OrderError::Internal(e))
            }
        };
        let _ = job.answer.send(result);
    }
}

enum Alone {
    Written,
    NotWritten(sqlx::Error),
    /// COMMIT's answer was lost and the order could not be looked up.
    Unknown(anyhow::Error),
}

/// Two transactions inserting next to the same unique key may each wait on
/// the other; the one InnoDB rolls back is simply tried again.
fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40001"))
}

const DEADLOCK_ATTEMPTS: usize = 3;

/// One order in its own transaction.
async fn write_alone(pool: &MySqlPool, record: &OrderRecord) -> Alone {
    let mut attempt = 1;
    loop {
        match write_batch(pool, &[record]).await {
            Err(failure)
                if !failure.at_commit
                    && is_deadlock(&failure.error)
                    && attempt < DEADLOCK_ATTEMPTS =>
            {
                attempt += 1;
            }
            written => return settle_alone(pool, record, written).await,
        }
    }
}

async fn settle_alone(
    pool: &MySqlPool,
    record: &OrderRecord,
    written: Result<(), BatchFailure>,
) -> Alone {
    match written {
        Ok(()) => Alone::Written,
        Err(failure) if failure.at_commit => {
            match queries::existing_orders(pool, &[record.row.id]).await {
                Ok(found) if found.contains(&record.row.id) => Alone::Written,
                Ok(_) => Alone::NotWritten(failure.error),
                Err(e) => Alone::Unknown(
                    anyhow::Error::from(e).context("checking whether an order was written"),
                ),
            }
        }
        Err(failure) => Alone::NotWritten(failure.error),
    }
}

struct BatchFailure {
    error: sqlx::Error,
    /// The statements succeeded and COMMIT's answer was lost.
    at_commit: bool,
}

impl From<sqlx::Error> for BatchFailure {
    fn from(error: sqlx::Error) -> Self {
        Self {
            error,
            at_commit: false,
        }
    }
}

async fn write_batch(pool: &MySqlPool, records: &[&OrderRecord]) -> Result<(), BatchFailure> {
    let mut tx = pool.begin().await?;
    queries::insert_orders(&mut tx, records).await?;
    queries::insert_items(&mut tx, records).await?;
    queries::insert_histories(&mut tx, records).await?;
    queries::insert_idempotency_keys(&mut tx, records).await?;
    queries::insert_outbox(&mut tx, records).await?;
    tx.commit().await.map_err(|error| BatchFailure {
        error,
        at_commit: true,
    })
}

async fn give_back(stock: &Stock, record: &OrderRecord) {
    if let Err(e) = stock.give_back(record.row.id, &record.reserved).await {
        crate::stock::giveback_failed("writer");
        tracing::error!(order_id = record.row.id, error = %e, "could not give back the stock of a failed order");
    }
}
