//! Group commit of the relay's database writes, after the orders writer.
//!
//! A stream costs three writes: taking its chat time (before the first byte),
//! recording the exchange (once the first delta is out) and closing the answer
//! (with the time given back when nothing was delivered). Each written alone is
//! a transaction and a commit of its own; at a few hundred new streams a second
//! on two shared cores they queue behind each other and the first tokens wait.
//! Here requests hand their write to a writer task, which takes every write
//! waiting (up to [`MAX_BATCH`]; the records writer also waits at most
//! [`WINDOW`] for more) and does
//! them all in one transaction with one statement per kind where it can.
//!
//! Two writers, each with a connection of its own: one takes chat times, so
//! a first token never waits behind the rows of other streams; the other
//! records and closes exchanges. Every statement that locks `chat_user` rows
//! locks them in one statement in id order, so the two cannot deadlock on
//! them; should a batch fail anyway (a deadlock with another service, one bad
//! row), its writes are done again one by one, so each gets the answer it
//! would have had alone.
//!
//! A write is answered only after its transaction committed. The caller's
//! guards stay as they were: a chat time taken here is held by a
//! [`super::charge::ChatTime`] from the moment its answer arrives.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::mysql::MySqlPoolOptions;
use sqlx::{MySql, MySqlConnection, MySqlPool, QueryBuilder};
use tokio::sync::{mpsc, oneshot};

use super::queries::{self, API_TYPE, NewExchange};
use super::types::{ANSWER, MessageStatus, QUESTION};

/// Writes done in one transaction at most; far below MariaDB's placeholder
/// limit (an exchange's two messages take 34).
pub const MAX_BATCH: usize = 64;

/// How long the records writer waits for more writes after the first one.
/// Under load the writes that arrive while the previous batch commits fill
/// the next batch anyway; alone, a write waits no longer than this. The takes
/// writer does not wait: every first token would wait with it, up to this
/// long, while at a few hundred streams its batches are mostly of one; under
/// more load the takes that queue during a commit make the next batch.
pub const WINDOW: Duration = Duration::from_micros(500);

/// Batch shapes differ only in their row count: one prepared statement per
/// shape and size, kept for the life of the connection.
const STATEMENT_CACHE: usize = 8 * MAX_BATCH;

/// How an answer ended, owned, for the writer.
#[derive(Debug)]
pub struct Closing {
    pub user_id: i64,
    pub answer_id: i64,
    pub content: String,
    pub status: MessageStatus,
    pub error_data: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// The time goes back (nothing was delivered, or the exchange was not
    /// recorded), if this close is the one that closes the answer, or the
    /// exchange was never recorded.
    pub refund: bool,
    pub recorded: bool,
}

/// What closing found: whether the time went back, and the user's balance after.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    pub given_back: bool,
    pub remaining: i64,
}

struct Take {
    user_id: i64,
    answer: oneshot::Sender<sqlx::Result<bool>>,
}

enum Record {
    Insert {
        exchange: Arc<NewExchange>,
        question_tokens: i64,
        answer: oneshot::Sender<sqlx::Result<()>>,
    },
    Close {
        closing: Closing,
        answer: oneshot::Sender<sqlx::Result<Closed>>,
    },
}

/// The handle requests write through; cheap to clone.
#[derive(Clone)]
pub struct ChatWriter {
    takes: mpsc::Sender<Take>,
    records: mpsc::Sender<Record>,
    commits: Arc<AtomicU64>,
}

fn stopped() -> sqlx::Error {
    sqlx::Error::Protocol("the chat writer has stopped".into())
}

impl ChatWriter {
    /// Starts the two writer tasks on connections of their own (the request
    /// pool keeps serving reads); they end when the last handle is dropped.
    pub fn spawn(db: &MySqlPool) -> Self {
        let options = (*db.connect_options())
            .clone()
            .statement_cache_capacity(STATEMENT_CACHE);
        // A writer's connection is busy all the time under load: a ping
        // before each batch would be one more round trip for nothing.
        let pool = paychat_common::db::ping_when_idle(MySqlPoolOptions::new())
            .max_connections(2)
            .acquire_timeout(db.options().get_acquire_timeout())
            .connect_lazy_with(options);
        let (takes, take_queue) = mpsc::channel(4 * MAX_BATCH);
        let (records, record_queue) = mpsc::channel(4 * MAX_BATCH);
        let commits = Arc::new(AtomicU64::new(0));
        tokio::spawn(run_takes(take_queue, pool.clone(), commits.clone()));
        tokio::spawn(run_records(record_queue, pool, commits.clone()));
        Self {
            takes,
            records,
            commits,
        }
    }

    /// Transactions the writers have committed so far (each holds one or
    /// more writes).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Takes one of the user's chat times; false when none was left. Ok once
    /// committed.
    pub async fn take(&self, user_id: i64) -> sqlx::Result<bool> {
        let (answer, answered) = oneshot::channel();
        self.takes
            .send(Take { user_id, answer })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// Writes the room (if new), the question and the streaming answer.
    pub async fn insert(
        &self,
        exchange: Arc<NewExchange>,
        question_tokens: i64,
    ) -> sqlx::Result<()> {
        let (answer, answered) = oneshot::channel();
        self.records
            .send(Record::Insert {
                exchange,
                question_tokens,
                answer,
            })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }

    /// Closes the answer, gives the time back if `closing` says so, and reads
    /// the balance, all in one transaction.
    pub async fn close(&self, closing: Closing) -> sqlx::Result<Closed> {
        let (answer, answered) = oneshot::channel();
        self.records
            .send(Record::Close { closing, answer })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// The next batch: what is waiting, plus what arrives within `window`.
async fn next_batch<T>(queue: &mut mpsc::Receiver<T>, window: Duration) -> Option<Vec<T>> {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
        return None;
    }
    if window.is_zero() {
        return Some(batch);
    }
    let deadline = tokio::time::Instant::now() + window;
    while batch.len() < MAX_BATCH {
        let room = MAX_BATCH - batch.len();
        match tokio::time::timeout_at(deadline, queue.recv_many(&mut batch, room)).await {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    Some(batch)
}

async fn run_takes(mut queue: mpsc::Receiver<Take>, pool: MySqlPool, commits: Arc<AtomicU64>) {
    while let Some(batch) = next_batch(&mut queue, Duration::ZERO).await {
        metrics::histogram!("chat_take_batch_size").record(batch.len() as f64);
        let users: Vec<i64> = batch.iter().map(|t| t.user_id).collect();
        let results = match take_batch(&pool, &users).await {
            Ok(granted) => {
                commits.fetch_add(1, Ordering::Relaxed);
                granted.into_iter().map(Ok).collect()
            }
            Err(failure) if users.len() == 1 || failure.at_commit => {
                // COMMIT's answer was lost: whether the times were taken is
                // unknown, so none is taken again (as a lone statement whose
                // answer was lost, the time may be spent).
                let error = failure.error.to_string();
                users
                    .iter()
                    .map(|_| Err(sqlx::Error::Protocol(error.clone())))
                    .collect()
            }
            Err(failure) => {
                let error = failure.error;
                tracing::debug!(error = %error, "chat time batch failed; taking one by one");
                let mut alone = Vec::with_capacity(users.len());
                for user in &users {
                    alone.push(
                        take_batch(&pool, &[*user])
                            .await
                            .inspect(|_| {
                                commits.fetch_add(1, Ordering::Relaxed);
                            })
                            .map(|g| g.first().copied().unwrap_or(false))
                            .map_err(|f| f.error),
                    );
                }
                alone
            }
        };
        for (take, result) in batch.into_iter().zip(results) {
            let _ = take.answer.send(result);
        }
    }
}

/// Takes a time for each entry of `users` (a user may appear more than once)
/// in one transaction; answers, in order, whether each got one.
async fn take_batch(pool: &MySqlPool, users: &[i64]) -> Result<Vec<bool>, Failure> {
    if let [user] = users {
        // Alone, one statement is its own transaction: one round trip
        // instead of four.
        let mut conn = pool.acquire().await?;
        let done = sqlx::query(
            "UPDATE chat_user SET can_conversation_times = can_conversation_times - 1, \
             chat_times_held = chat_times_held + 1, chat_times_held_at = UTC_TIMESTAMP(3) \
             WHERE id = ? AND can_conversation_times > 0",
        )
        .bind(*user)
        .execute(&mut *conn)
        .await?;
        return Ok(vec![done.rows_affected() == 1]);
    }
    let mut tx = pool.begin().await?;
    let mut ids: Vec<i64> = users.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let left = lock_balances(&mut tx, &ids).await?;
    let mut left: HashMap<i64, i64> = left.into_iter().collect();
    let mut taken = Moves::new();
    let granted: Vec<bool> = users
        .iter()
        .map(|user| match left.get_mut(user) {
            Some(n) if *n > 0 => {
                *n -= 1;
                let m = taken.entry(*user).or_default();
                m.balance -= 1;
                m.held += 1;
                true
            }
            _ => false,
        })
        .collect();
    move_times(&mut tx, &taken, true).await?;
    tx.commit().await.map_err(Failure::at_commit)?;
    Ok(granted)
}

/// The balances of `ids` (sorted), locked until the transaction ends.
async fn lock_balances(conn: &mut MySqlConnection, ids: &[i64]) -> sqlx::Result<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT id, CAST(can_conversation_times AS SIGNED) FROM chat_user WHERE id IN (",
    );
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    qb.push(") ORDER BY id FOR UPDATE");
    qb.build_query_as().fetch_all(conn).await
}

/// What one transaction changes on a user's row.
#[derive(Debug, Default, Clone, Copy)]
struct Move {
    /// Added to the balance (negative: taken).
    balance: i64,
    /// Added to the times held for streams whose exchange is not recorded yet.
    held: i64,
}

type Moves = BTreeMap<i64, Move>;

/// Applies `moves` in one statement, rows in id order; `taking` stamps the
/// latest take, which the stale-hold sweep measures a hold's age from.
async fn move_times(conn: &mut MySqlConnection, moves: &Moves, taking: bool) -> sqlx::Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<MySql>::new(
        "UPDATE chat_user SET can_conversation_times = can_conversation_times + CASE id",
    );
    for (id, m) in moves {
        qb.push(" WHEN ")
            .push_bind(*id)
            .push(" THEN ")
            .push_bind(m.balance);
    }
    // A hold already given back by the sweep is not taken below zero.
    qb.push(" ELSE 0 END, chat_times_held = GREATEST(chat_times_held + CASE id");
    for (id, m) in moves {
        qb.push(" WHEN ")
            .push_bind(*id)
            .push(" THEN ")
            .push_bind(m.held);
    }
    qb.push(" ELSE 0 END, 0)");
    if taking {
        qb.push(", chat_times_held_at = UTC_TIMESTAMP(3)");
    }
    qb.push(" WHERE id IN (");
    let mut list = qb.separated(", ");
    for id in moves.keys() {
        list.push_bind(*id);
    }
    qb.push(")");
    qb.build().execute(conn).await?;
    Ok(())
}

async fn run_records(mut queue: mpsc::Receiver<Record>, pool: MySqlPool, commits: Arc<AtomicU64>) {
    while let Some(batch) = next_batch(&mut queue, WINDOW).await {
        metrics::histogram!("chat_record_batch_size").record(batch.len() as f64);
        let refs: Vec<&Record> = batch.iter().collect();
        let results = match record_batch(&pool, &refs).await {
            Ok(results) => {
                commits.fetch_add(1, Ordering::Relaxed);
                results
            }
            Err(failure) if refs.len() == 1 || failure.at_commit => {
                // After a lost COMMIT answer nothing is written again: a
                // close answered with an error leaves its time to its guard.
                let error = failure.error.to_string();
                refs.iter()
                    .map(|_| Outcome::Failed(sqlx::Error::Protocol(error.clone())))
                    .collect()
            }
            Err(failure) => {
                let error = failure.error;
                tracing::debug!(error = %error, "chat record batch failed; writing one by one");
                let mut alone = Vec::with_capacity(refs.len());
                for record in &refs {
                    alone.push(match record_batch(&pool, &[record]).await {
                        Ok(mut one) => {
                            commits.fetch_add(1, Ordering::Relaxed);
                            one.remove(0)
                        }
                        Err(failure) => Outcome::Failed(failure.error),
                    });
                }
                alone
            }
        };
        drop(refs);
        for (record, outcome) in batch.into_iter().zip(results) {
            match (record, outcome) {
                (Record::Insert { answer, .. }, Outcome::Inserted) => {
                    let _ = answer.send(Ok(()));
                }
                (Record::Close { answer, .. }, Outcome::Closed(closed)) => {
                    let _ = answer.send(Ok(closed));
                }
                (Record::Insert { answer, .. }, Outcome::Failed(error)) => {
                    let _ = answer.send(Err(error));
                }
                (Record::Close { answer, .. }, Outcome::Failed(error)) => {
                    let _ = answer.send(Err(error));
                }
                (Record::Insert { answer, .. }, Outcome::Closed(_)) => {
                    let _ = answer.send(Err(sqlx::Error::Protocol("mismatched answer".into())));
                }
                (Record::Close { answer, .. }, Outcome::Inserted) => {
                    let _ = answer.send(Err(sqlx::Error::Protocol("mismatched answer".into())));
                }
            }
        }
    }
}

/// Why a batch was not written.
struct Failure {
    error: sqlx::Error,
    /// The statements succeeded and COMMIT's answer was lost.
    at_commit: bool,
}

impl Failure {
    fn at_commit(error: sqlx::Error) -> Self {
        Self {
            error,
            at_commit: true,
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self {
            error,
            at_commit: false,
        }
    }
}

enum Outcome {
    Inserted,
    Closed(Closed),
    Failed(sqlx::Error),
}

/// Inserts the new exchanges, then closes the answers, gives times back and
/// reads balances, in one transaction; answers in the order of `records`.
async fn record_batch(pool: &MySqlPool, records: &[&Record]) -> Result<Vec<Outcome>, Failure> {
    if let [Record::Close { closing: c, .. }] = records
        && !c.refund
    {
        // A delivered answer closed alone: its statement is its own
        // transaction, and the balance is read after it.
        let mut conn = pool.acquire().await?;
        queries::finish_answer(&mut conn, &finished(c)).await?;
        let remaining = queries::chat_times(&mut conn, c.user_id).await?;
        return Ok(vec![Outcome::Closed(Closed {
            given_back: false,
            remaining,
        })]);
    }
    let mut inserts: Vec<(&NewExchange, i64)> = Vec::new();
    let mut closings: Vec<&Closing> = Vec::new();
    for record in records {
        match record {
            Record::Insert {
                exchange,
                question_tokens,
                ..
            } => inserts.push((exchange, *question_tokens)),
            Record::Close { closing, .. } => closings.push(closing),
        }
    }
    let mut tx = pool.begin().await?;
    insert_exchanges(&mut tx, &inserts).await?;
    // A recorded exchange's answer row stands for its time from here on.
    let mut moves = Moves::new();
    for (x, _) in &inserts {
        moves.entry(x.user_id).or_default().held -= 1;
    }
    // Each answer is closed by its own statement (their texts differ); a
    // closed answer is what makes its give-back happen exactly once.
    let mut given: Vec<bool> = Vec::with_capacity(closings.len());
    for c in &closings {
        let closed = queries::finish_answer(&mut tx, &finished(c)).await?;
        let give = c.refund && (closed || !c.recorded);
        if give {
            let m = moves.entry(c.user_id).or_default();
            m.balance += 1;
            if !c.recorded {
                m.held -= 1;
            }
        }
        given.push(give);
    }
    move_times(&mut tx, &moves, false).await?;
    let mut users: Vec<i64> = closings.iter().map(|c| c.user_id).collect();
    users.sort_unstable();
    users.dedup();
    let balances: HashMap<i64, i64> = read_balances(&mut tx, &users).await?.into_iter().collect();
    tx.commit().await.map_err(Failure::at_commit)?;
    let mut given = given.into_iter();
    let mut closings = closings.into_iter();
    Ok(records
        .iter()
        .map(|record| match record {
            Record::Insert { .. } => Outcome::Inserted,
            Record::Close { .. } => {
                let user = closings.next().map_or(0, |c| c.user_id);
                Outcome::Closed(Closed {
                    given_back: given.next().unwrap_or(false),
                    remaining: balances.get(&user).copied().unwrap_or(0),
                })
            }
        })
        .collect())
}

fn finished(c: &Closing) -> queries::Finished<'_> {
    queries::Finished {
        answer_id: c.answer_id,
        content: &c.content,
        status: c.status,
        error_data: c.error_data.clone(),
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
    }
}

async fn read_balances(conn: &mut MySqlConnection, ids: &[i64]) -> sqlx::Result<Vec<(i64, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT id, CAST(can_conversation_times AS SIGNED) FROM chat_user WHERE id IN (",
    );
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    qb.push(")");
    qb.build_query_as().fetch_all(conn).await
}

/// The rooms (new ones inserted, the others touched) and both messages of
/// every exchange, one statement each.
async fn insert_exchanges(
    conn: &mut MySqlConnection,
    inserts: &[(&NewExchange, i64)],
) -> sqlx::Result<()> {
    if inserts.is_empty() {
        return Ok(());
    }
    let new_rooms: Vec<(&NewExchange, &String)> = inserts
        .iter()
        .filter_map(|(x, _)| x.new_room_title.as_ref().map(|t| (*x, t)))
        .collect();
    if !new_rooms.is_empty() {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO chat_room (id, user_id, ip, first_chat_message_id, first_message_id, \
             title, api_type) ",
        );
        qb.push_values(&new_rooms, |mut b, (x, title)| {
            b.push_bind(x.room_id)
                .push_bind(x.user_id)
                .push_bind(&x.ip)
                .push_bind(x.question_id)
                .push_bind(x.question_id.to_string())
                .push_bind(*title)
                .push_bind(API_TYPE);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let mut touched: Vec<i64> = inserts
        .iter()
        .filter(|(x, _)| x.new_room_title.is_none())
        .map(|(x, _)| x.room_id)
        .collect();
    touched.sort_unstable();
    touched.dedup();
    if !touched.is_empty() {
        let mut qb = QueryBuilder::<MySql>::new(
            "UPDATE chat_room SET update_time = CURRENT_TIMESTAMP(3) WHERE id IN (",
        );
        let mut list = qb.separated(", ");
        for id in &touched {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().execute(&mut *conn).await?;
    }
    let mut qb = QueryBuilder::<MySql>::new(
        "INSERT INTO chat_message (id, user_id, message_id, parent_message_id, \
         parent_answer_message_id, parent_question_message_id, context_count, \
         question_context_count, message_type, chat_room_id, api_type, model_name, api_key, \
         content, prompt_tokens, ip, status) ",
    );
    // The question, then the answer (streaming until it is closed).
    let rows = inserts
        .iter()
        .flat_map(|(x, tokens)| [(*x, QUESTION, Some(*tokens)), (*x, ANSWER, None::<i64>)]);
    qb.push_values(rows, |mut b, (x, kind, tokens)| {
        let question_id = x.question_id.to_string();
        if kind == QUESTION {
            b.push_bind(x.question_id)
                .push_bind(x.user_id)
                .push_bind(question_id)
                .push_bind(x.parent_message_id.clone())
                .push_bind(x.parent_message_id.clone())
                .push_bind(None::<String>)
                .push_bind(x.context_count)
                .push_bind(x.context_count)
                .push_bind(QUESTION)
                .push_bind(x.room_id)
                .push_bind(API_TYPE)
                .push_bind(x.model.clone())
                .push_bind(x.key_fingerprint.clone())
                .push_bind(x.prompt.clone())
                .push_bind(tokens)
                .push_bind(x.ip.clone())
                .push_bind(MessageStatus::Done.code());
        } else {
            b.push_bind(x.answer_id)
                .push_bind(x.user_id)
                .push_bind(x.answer_id.to_string())
                .push_bind(question_id.clone())
                .push_bind(x.parent_message_id.clone())
                .push_bind(Some(question_id))
                .push_bind(x.context_count)
                .push_bind(x.context_count)
                .push_bind(ANSWER)
                .push_bind(x.room_id)
                .push_bind(API_TYPE)
                .push_bind(x.model.clone())
                .push_bind(x.key_fingerprint.clone())
                .push_bind(String::new())
                .push_bind(tokens)
                .push_bind(x.ip.clone())
                .push_bind(MessageStatus::Streaming.code());
        }
    });
    qb.build().execute(&mut *conn).await?;
    Ok(())
}
