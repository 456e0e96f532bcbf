//! "My data" and "Delete my account": the archive of everything the user has, sent as a
//! document, and the erasure of the account after one explicit confirmation. The API does the
//! work; the bot only asks, sends and tells.

use teloxide::{payloads::SendDocumentSetters, prelude::Requester};

use super::{Result, Turn};
use crate::telegram::keyboards;
use crate::telegram::operations::{DeleteMyAccount, ExportMyData, delete_my_account, export_my_data};
use crate::telegram::outgoing;
use crate::telegram::state::{ChatState, Screen};
use crate::telegram::texts::fill;

/// Telegram takes uploads of up to 50 MB; a larger archive is sent as its link alone.
const MAX_DOCUMENT_BYTES: i64 = 50 * 1024 * 1024;

pub async fn export(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.send(t.export_preparing, None).await?;
    let export = turn.execute::<ExportMyData>(export_my_data::Variables).await?.export_my_data;
    // Rounded up to a tenth, so a small archive is not "0.0 MB".
    let megabytes = format!("{:.1}", (export.byte_size as f64 / 104_857.6).ceil() / 10.0);
    let caption = fill(
        t.export_ready,
        &[("images", &export.images), ("photos", &export.photos), ("size", &megabytes), ("link", &export.url)],
    );
    if export.byte_size > MAX_DOCUMENT_BYTES {
        return turn.send(&caption, Some(keyboards::main_menu(t, turn.bot.web_app.as_ref()))).await.map(drop);
    }
    let file = outgoing::document(&turn.bot.own_links, &export.url, "aisha-data.zip").await;
    let request = turn.bot.api.send_document(turn.chat, file).caption(caption);
    turn.bot.deliver(turn.chat, request).await?;
    Ok(())
}

pub async fn ask_delete(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::ConfirmDeleteAccount, t.confirm_delete_account, Some(keyboards::confirm_delete_account(t))).await
}

/// Erases the account (only from its confirmation screen: an old button elsewhere asks first).
pub async fn delete(turn: &mut Turn<'_>) -> Result<()> {
    if turn.state.screen != Screen::ConfirmDeleteAccount {
        return ask_delete(turn).await;
    }
    let t = turn.t();
    let variables = delete_my_account::Variables { confirm: "DELETE".into() };
    let erased = turn.execute::<DeleteMyAccount>(variables).await?.delete_my_account;
    // The chat starts afresh, in the language it spoke.
    turn.state = ChatState { lang: turn.state.lang, ..ChatState::default() };
    let text = fill(t.account_deleted, &[("cancelled", &erased.cancelled_jobs)]);
    turn.show(Screen::Menu, &text, None).await
}
