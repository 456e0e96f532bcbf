//! The main menu, help, language, and the invitation of friends.

use super::{Result, Turn};
use crate::telegram::keyboards;
use crate::telegram::operations::{Me, Referrals, SetLanguage, me, referrals, set_language};
use crate::telegram::state::Screen;
use crate::telegram::texts::{Lang, fill};

pub async fn show(turn: &mut Turn<'_>) -> Result<()> {
    let me = turn.execute::<Me>(me::Variables).await?.me;
    let t = turn.t();
    let text = fill(t.menu, &[("balance", &me.balance)]);
    turn.show(Screen::Menu, &text, Some(keyboards::main_menu(t, turn.bot.web_app.as_ref()))).await
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

/// The referral link, what a friend's first top-up earns, and what it brought so far.
pub async fn invite(turn: &mut Turn<'_>) -> Result<()> {
    let r = turn.execute::<Referrals>(referrals::Variables).await?.me.referrals;
    let t = turn.t();
    let reward = match (r.reward_credits, r.reward_percent) {
        (Some(credits), _) => fill(t.invite_reward_credits, &[("credits", &credits)]),
        (None, Some(percent)) => fill(t.invite_reward_percent, &[("percent", &percent)]),
        (None, None) => String::new(),
    };
    let link = r.link.unwrap_or(r.start_parameter);
    let text = fill(
        t.invite,
        &[
            ("link", &link),
            ("reward", &reward),
            ("count", &r.count),
            ("rewarded", &r.rewarded),
            ("earned", &r.credits_earned),
        ],
    );
    turn.show(Screen::Invite, &text, Some(keyboards::only_back(t))).await
}
