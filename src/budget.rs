//! A request's budget of SQL statements. Statements run inside [`RequestBudget::run`] (counted
//! by the pools' metric callback, in the task that runs them) are charged to it, and the request
//! is ended once it spends more than its limit: a cost model can be wrong, this cannot.
//! Work a request hands to other tasks (DataLoader batches) is not charged; it is batched.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tokio::sync::Notify;

tokio::task_local! {
    static CURRENT: Arc<RequestBudget>;
}

pub struct RequestBudget {
    spent: AtomicUsize,
    limit: usize,
    exceeded: Notify,
}

/// The request ran more statements than its budget allowed and was stopped.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request ran more than {limit} SQL statements and was stopped")]
pub struct Exceeded {
    pub limit: usize,
}

impl RequestBudget {
    /// Runs `work` with a budget of `limit` statements; stops it (drops it) once it is spent.
    pub async fn run<F: Future>(limit: usize, work: F) -> Result<F::Output, Exceeded> {
        let budget = Arc::new(RequestBudget { spent: AtomicUsize::new(0), limit, exceeded: Notify::new() });
        let work = CURRENT.scope(budget.clone(), work);
        tokio::select! {
            biased;
            () = budget.exceeded.notified() => Err(Exceeded { limit }),
            output = work => Ok(output),
        }
    }

    /// Charges one statement to the request running in this task, if any.
    pub fn charge() {
        let _ = CURRENT.try_with(|budget| {
            if budget.spent.fetch_add(1, Relaxed) + 1 > budget.limit {
                budget.exceeded.notify_one();
            }
        });
    }
}
