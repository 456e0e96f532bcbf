//! The main menu, help and language.

use super::{Result, Turn};
use crate::telegram::keyboards;
use crate::telegram::operations::{Me, SetLanguage, me, set_language};
use crate::telegram::state::Screen;
use crate::telegram::texts::{Lang, fill};

pub async fn show(turn: &mut Turn<'_>) -> Result<()> {
    let me = turn.execute::<Me>(me::Variables).await?.me;
    let t = turn.t();
    let text = fill(t.menu, &[("balance", &me.balance)]);
    turn.show(Screen::Menu, &text, Some(keyboards::main_menu(t))).await
}

pub async fn help(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::Help, t.help, Some(keyboards::only_back(t))).await
}

pub async fn pick_language(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::Language, t.choose_language, Some(keyboards::languages())).await
}

pub async fn set_language(turn: &mut Turn<'_>, code: &str) -> Result<()> {
    turn.execute::<SetLanguage>(set_language::Variables { language_code: code.to_owned() }).await?;
    turn.state.lang = Some(Lang::from_code(Some(code)));
    show(turn).await
}
