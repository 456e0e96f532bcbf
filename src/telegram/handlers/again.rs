//! Making a result again: the same seed, new seeds (variations) or an edited prompt with the
//! same seed; or a clip of a picture (🎬). The API makes each a new, charged generation; each gets a progress message of its
//! own that the notifier turns into the result.

use super::create::{follow, for_repeat};
use super::{BotError, Result, Turn};
use crate::telegram::client::ErrorCode;
use crate::telegram::keyboards;
use crate::telegram::operations::{AnimateImage, Regenerate, Variations, animate_image, regenerate, variations};
use crate::telegram::state::Screen;
use crate::telegram::texts::{fill, truncate};

/// Variations asked for by the button.
const VARIATIONS: i64 = 3;

pub async fn same_seed(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    make_again(turn, generation_id, None).await
}

pub async fn ask_prompt(turn: &mut Turn<'_>, generation_id: &str) -> Result<()> {
    let prompt = for_repeat(turn, generation_id).await?.prompt;
    turn.state.editing = Some(generation_id.to_owned());
    turn.origin = None; // keep the result; ask below it
    let t = turn.t();
    let text = truncate(&fill(t.ask_edited_prompt, &[("prompt", &prompt)]), 4096);
    turn.show(Screen::AwaitEditedPrompt, &text, Some(keyboards::only_back(t))).await
}

pub async fn prompt_received(turn: &mut Turn<'_>, prompt: &str) -> Result<()> {
    let Some(generation_id) = turn.state.editing.take() else { return Ok(()) };
    make_again(turn, &generation_id, Some(prompt.to_owned())).await
}

async fn make_again(turn: &mut Turn<'_>, generation_id: &str, prompt: Option<String>) -> Result<()> {
    let variables = regenerate::Variables { id: generation_id.to_owned(), same_seed: true, prompt };
    let made = match turn.execute::<Regenerate>(variables).await {
        Ok(made) => made.regenerate,
        Err(error) => return refused(turn, error).await,
    };
    started(turn, &[made.id]).await
}

pub async fn variations(turn: &mut Turn<'_>, image_id: &str) -> Result<()> {
    let variables = variations::Variables { image_id: image_id.to_owned(), count: VARIATIONS };
    let made = match turn.execute::<Variations>(variables).await {
        Ok(made) => made.variations,
        Err(error) => return refused(turn, error).await,
    };
    let t = turn.t();
    turn.send(&fill(t.variations_started, &[("count", &made.len())]), None).await?;
    let ids: Vec<String> = made.into_iter().map(|g| g.id).collect();
    started(turn, &ids).await
}

/// 🎬 on a picture: a clip of it, charged per clip (the price is told as it starts).
pub async fn animate(turn: &mut Turn<'_>, image_id: &str) -> Result<()> {
    let variables = animate_image::Variables { image_id: image_id.to_owned() };
    let made = match turn.execute::<AnimateImage>(variables).await {
        Ok(made) => made.animate_image,
        Err(error) => return refused(turn, error).await,
    };
    let t = turn.t();
    turn.send(&fill(t.animate_started, &[("cost", &made.cost)]), None).await?;
    started(turn, &[made.id]).await
}

/// The video path of Create: how a clip is made, and the way to the gallery.
pub async fn video_intro(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::Menu, t.video_intro, Some(keyboards::video(t))).await
}

/// A progress message for each generation made, below the result.
async fn started(turn: &mut Turn<'_>, generation_ids: &[String]) -> Result<()> {
    turn.state.screen = Screen::Menu;
    turn.save().await?;
    for id in generation_ids {
        let message = turn.send(turn.t().progress_queued, None).await?;
        follow(turn, id, message.id).await;
    }
    Ok(())
}

/// Not enough credits is offered a top-up; a bad prompt is told as the API said it.
async fn refused(turn: &mut Turn<'_>, error: BotError) -> Result<()> {
    turn.origin = None;
    match error {
        BotError::Api(error) if error.code() == ErrorCode::InsufficientCredits => {
            turn.show_not_enough(Screen::Menu, &error).await
        }
        BotError::Api(error) if error.code() == ErrorCode::BadUserInput => {
            let t = turn.t();
            turn.show(Screen::Menu, &error.message(), Some(keyboards::main_menu(t, turn.bot.web_app.as_ref()))).await
        }
        error => Err(error),
    }
}
