//! The chat time an exchange is paid with, held until the exchange settles.
//!
//! A [`ChatTime`] exists from the moment the time is taken until it is either
//! kept (an answer was delivered and recorded) or given back (no answer). Every
//! way of ending consumes it, so a time is settled exactly once; a future that
//! is dropped midway (the browser left, the request deadline passed) drops the
//! guard, and the drop gives the time back on the runtime.
//!
//! Until its exchange is recorded the time is also held on the user's row
//! (`chat_times_held`), so a process killed before then, which runs no drop,
//! leaves a hold the stale sweep gives back. Once the exchange is recorded the
//! answer row stands for the time: closing it settles the time, and should
//! that fail, the answer sweep does; the guard then gives nothing back itself.

use sqlx::MySqlPool;

use super::queries;
use super::writer::ChatWriter;

/// A taken chat time, given back when dropped unless settled first.
#[must_use = "dropping a chat time gives it back"]
pub struct ChatTime {
    db: MySqlPool,
    user_id: i64,
    armed: bool,
}

impl ChatTime {
    /// Takes one of the user's chat times; `None` when none is left. The
    /// take is group-committed with those of other streams (see
    /// [`super::writer`]); a give-back goes to `db` directly.
    ///
    /// The take runs in a task of its own: a caller dropped after the row
    /// changed but before the answer arrived would otherwise lose the time, as
    /// nothing would hold it. Dropped with its caller, the task's result (the
    /// guard) is dropped too, which gives the time back.
    pub async fn take(
        writer: &ChatWriter,
        db: &MySqlPool,
        user_id: i64,
    ) -> sqlx::Result<Option<Self>> {
        let (writer, db) = (writer.clone(), db.clone());
        let task = tokio::spawn(async move {
            let taken = writer.take(user_id).await?;
            if taken {
                metrics::counter!("chat_times_taken_total").increment(1);
            }
            Ok(taken.then(|| Self {
                db,
                user_id,
                armed: true,
            }))
        });
        match task.await {
            Ok(taken) => taken,
            Err(error) => Err(sqlx::Error::Protocol(format!(
                "taking a chat time stopped: {error}"
            ))),
        }
    }

    /// An answer was delivered and recorded: the time stays spent.
    pub fn keep(mut self) {
        self.armed = false;
    }

    /// Gives the time back now. The statement runs in a task of its own, so
    /// a caller dropped while it runs cannot cut it short.
    pub async fn give_back(mut self) {
        self.armed = false;
        let (db, user_id) = (self.db.clone(), self.user_id);
        let _ = tokio::spawn(async move { give_back(&db, user_id).await }).await;
    }

    /// The caller gave the time back in a transaction that has committed
    /// (or learned that whoever closed the answer first settled it).
    pub fn settled(mut self) {
        self.armed = false;
    }

    /// The exchange was recorded: its answer row now stands for the time, and
    /// whoever closes that row (the relay, or the answer sweep) settles it.
    pub fn recorded(mut self) {
        self.armed = false;
    }
}

/// `chat_times_returned_total`: a taken chat time went back to its user.
pub fn count_returned() {
    metrics::counter!("chat_times_returned_total").increment(1);
}

async fn give_back(db: &MySqlPool, user_id: i64) {
    let given: sqlx::Result<bool> = async {
        let mut conn = db.acquire().await?;
        queries::give_held_time_back(&mut conn, user_id).await
    }
    .await;
    match given {
        Ok(true) => {
            count_returned();
            tracing::info!(user_id, "chat time given back: no answer was delivered");
        }
        Ok(false) => {
            tracing::warn!(
                user_id,
                "chat time already given back by the stale-hold sweep"
            );
        }
        Err(error) => {
            tracing::error!(user_id, error = %error, "giving a chat time back failed; it is lost");
        }
    }
}

impl Drop for ChatTime {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.armed = false;
        let (db, user_id) = (self.db.clone(), self.user_id);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { give_back(&db, user_id).await });
            }
            Err(_) => tracing::error!(user_id, "no runtime to give a chat time back; it is lost"),
        }
    }
}
