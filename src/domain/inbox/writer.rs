//! The inbox's writers: webhooks wait for their update to be durable before they answer, and
//! at a thousand updates a second a commit each would queue on the database's log flushes. So a
//! writer takes every update waiting at that moment and stores them in a single statement (one
//! commit); while it writes, the next updates gather (a second writer taking turns made more,
//! smaller commits and a worse p99 on the bench). Each webhook then learns whether its update was new.

use std::{collections::HashSet, sync::Arc};

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{NewUpdate, repository as repo};
use crate::domain::{
    Error, Result,
    time::{Micros, now_micros},
};

/// Rows per statement at most.
const BATCH: usize = 128;
/// Writers taking turns (each holds a connection while it writes): one measured best.
const WRITERS: usize = 1;

type Reply = oneshot::Sender<Result<Option<Micros>>>;

struct Pending {
    update: NewUpdate,
    claim: Option<(String, Micros)>,
    reply: Reply,
}

#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Pending>,
}

impl Writer {
    /// Starts the writers on the current runtime.
    pub fn start(db: DatabaseConnection) -> Writer {
        let (queue, waiting) = mpsc::channel(4 * BATCH);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WRITERS {
            tokio::spawn(write(db.clone(), waiting.clone()));
        }
        Writer { queue }
    }

    /// Stores the update; `Some(received_at)` when it was new, None for a redelivery.
    pub async fn store(&self, update: NewUpdate, claim: Option<(String, Micros)>) -> Result<Option<Micros>> {
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::Unavailable("the inbox writer stopped".into());
        self.queue.send(Pending { update, claim, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write(db: DatabaseConnection, waiting: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        // Take what waits (or the next to come), then let the other writer gather.
        if waiting.lock().await.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        let rows: Vec<(NewUpdate, Option<(String, Micros)>)> =
            batch.iter().map(|p| (p.update.clone(), p.claim.clone())).collect();
        let now = now_micros();
        match repo::insert_many(&db, &rows, now).await {
            Ok(inserted) => {
                // The first of a batch with an id gets it; a second delivery of it in the same
                // batch is a redelivery like any other.
                let mut new: HashSet<i64> = inserted.into_iter().collect();
                for pending in batch.drain(..) {
                    let fresh = new.remove(&pending.update.update_id);
                    let _ = pending.reply.send(Ok(fresh.then_some(now)));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for pending in batch.drain(..) {
                    let _ = pending.reply.send(Err(Error::internal(&message)));
                }
            }
        }
    }
}
