//! Progress messages follow their job through the schema's own subscriptions, executed
//! in-process as the user (`generationUpdated`, `avatarUpdated`): the bot sees the events any
//! client sees, on whichever instance runs the job. Edits are best effort, at most one per
//! message every few seconds (Telegram's limits ask it), and the latest state wins. A job's end
//! is not edited here: the notifier tells it, durably, and marks the message settled.

use std::{sync::Arc, time::Duration};

use futures_util::{StreamExt, stream::BoxStream};
use teloxide::{
    prelude::Requester,
    types::{ChatId, MessageId},
};
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::BotCtx;
use super::client::{Actor, ApiError};
use super::delivery::{self, Progress, Watch};
use super::operations::{
    AvatarStatus, GenerationProgressUpdates, TrainingProgressUpdates, generation_progress_updates,
    training_progress_updates,
};
use super::outgoing::{self, retrying};
use super::texts::fill;

/// Edits of one progress message at most this often.
const EDIT_INTERVAL: Duration = Duration::from_secs(3);

/// A progress message to keep up to date.
struct Follow {
    actor: Actor,
    job: Job,
    watch: Watch,
    /// What the message shows now.
    shown: String,
}

enum Job {
    Generation(String),
    Training(String),
}

/// Where handlers hand over the progress messages they sent; [`follow_progress`] follows them.
pub struct Followers {
    sender: mpsc::UnboundedSender<Follow>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Follow>>>,
}

impl Default for Followers {
    fn default() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Followers { sender, receiver: Mutex::new(Some(receiver)) }
    }
}

impl Followers {
    /// Follows a generation (by its global id) on `watch`, which shows `shown` now.
    pub fn generation(&self, actor: Actor, generation_id: &str, watch: Watch, shown: &str) {
        self.hand_over(Follow {
            actor,
            job: Job::Generation(generation_id.to_owned()),
            watch,
            shown: shown.to_owned(),
        });
    }

    /// Follows an avatar's training (by its global id) on `watch`, which shows `shown` now.
    pub fn training(&self, actor: Actor, avatar_id: &str, watch: Watch, shown: &str) {
        self.hand_over(Follow { actor, job: Job::Training(avatar_id.to_owned()), watch, shown: shown.to_owned() });
    }

    fn hand_over(&self, follow: Follow) {
        if self.sender.send(follow).is_err() {
            tracing::debug!("the bot is stopping: a progress message is not followed");
        }
    }
}

/// Follows every progress message handed over until `shutdown`.
pub async fn follow_progress(bot: Arc<BotCtx>, shutdown: CancellationToken) {
    let Some(mut handed_over) = bot.followers.receiver.lock().await.take() else {
        return tracing::error!("progress messages are followed already");
    };
    let following = TaskTracker::new();
    loop {
        let follow = tokio::select! {
            follow = handed_over.recv() => follow,
            _ = shutdown.cancelled() => break,
        };
        let Some(follow) = follow else { break };
        let (bot, shutdown) = (bot.clone(), shutdown.clone());
        following.spawn(async move {
            let key = match &follow.job {
                Job::Generation(id) | Job::Training(id) => id.clone(),
            };
            match texts(&bot, &follow) {
                Ok(texts) => tokio::select! {
                    () = keep_edited(&bot, &key, follow.watch, follow.shown, texts) => {}
                    _ = shutdown.cancelled() => {}
                },
                Err(error) => tracing::warn!(%error, "a progress message cannot be followed"),
            }
        });
    }
    following.close();
    following.wait().await;
}

/// The text the message should show at each change, until the job ends.
fn texts(bot: &BotCtx, follow: &Follow) -> Result<BoxStream<'static, String>, ApiError> {
    let lang = follow.watch.lang;
    Ok(match &follow.job {
        Job::Generation(id) => {
            let variables = generation_progress_updates::Variables { id: id.clone() };
            let updates = bot.gql.subscribe::<GenerationProgressUpdates>(&follow.actor, variables)?;
            until_error(updates)
                .map(|data| data.generation_updated)
                .take_while(|generation| std::future::ready(!generation.status.is_terminal()))
                .map(move |g| {
                    let progress = Progress {
                        id: &g.id,
                        status: g.status,
                        progress: g.progress,
                        error: g.error.as_deref(),
                        blocked: g.blocked_images,
                        eta: g.eta,
                    };
                    delivery::progress_text(progress, lang)
                })
                .boxed()
        }
        Job::Training(id) => {
            let variables = training_progress_updates::Variables { id: id.clone() };
            let updates = bot.gql.subscribe::<TrainingProgressUpdates>(&follow.actor, variables)?;
            until_error(updates)
                .map(|data| data.avatar_updated)
                .take_while(|avatar| std::future::ready(avatar.status == AvatarStatus::Training || avatar.retraining))
                .map(move |a| fill(lang.texts().training, &[("name", &a.name), ("progress", &a.progress)]))
                .boxed()
        }
    })
}

/// The events of a subscription up to its first error (logged).
fn until_error<T: Send + 'static>(
    updates: BoxStream<'static, Result<T, ApiError>>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    updates
        .map(|update| update.inspect_err(|error| tracing::debug!(%error, "a progress subscription ended")))
        .take_while(|update| std::future::ready(update.is_ok()))
        .filter_map(|update| std::future::ready(update.ok()))
}

/// Edits the message to the latest text, at most once every `EDIT_INTERVAL`, until the texts
/// end or the message shows the job's end.
async fn keep_edited(
    bot: &BotCtx,
    job_id: &str,
    watch: Watch,
    mut shown: String,
    mut texts: BoxStream<'static, String>,
) {
    let mut latest: Option<String> = None;
    let mut next_edit = Instant::now();
    loop {
        tokio::select! {
            text = texts.next() => match text {
                Some(text) => latest = (text != shown).then_some(text),
                None => return,
            },
            () = tokio::time::sleep_until(next_edit), if latest.is_some() => {
                let Some(text) = latest.take() else { continue };
                if delivery::is_settled(bot, job_id).await {
                    return;
                }
                let request = bot.api.edit_message_text(ChatId(watch.chat), MessageId(watch.message), text.clone());
                if let Err(error) = retrying(request).await
                    && !outgoing::is_unchanged(&error)
                {
                    tracing::debug!(%error, "a progress edit was dropped");
                }
                shown = text;
                next_edit = Instant::now() + EDIT_INTERVAL;
            }
        }
    }
}
