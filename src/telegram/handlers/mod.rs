//! What the bot does with an update: find the screen, run GraphQL operations as the sender,
//! render the answer. No business rule lives here — prices, balances, ownership and validation
//! all come from the API.

mod again;
mod avatars;
mod balance;
mod create;
mod gallery;
mod menu;
mod privacy;
mod settings;
mod styles;

use graphql_client::GraphQLQuery;
use teloxide::{
    payloads::{EditMessageTextSetters, SendMessageSetters},
    prelude::Requester,
    types::{CallbackQuery, ChatId, InlineKeyboardMarkup, Message, MessageId, Update, UpdateKind, User},
};

use super::callback::Callback;
use super::client::{Actor, ApiError, ErrorCode};
use super::keyboards;
use super::operations::{Me, me};
use super::outgoing::{is_unchanged, retrying};
use super::state::{self, ChatState, Screen};
use super::texts::{self, Lang, Texts};
pub use super::{BotCtx, BotError, Result};
use crate::domain::users::TelegramProfile;

/// Handles one update to the end. An error that may pass is returned (the update is handled
/// again later); a refusal of the API is shown to the user.
pub async fn handle(bot: &BotCtx, update: Update) -> Result<()> {
    let chat = update.chat().map(|c| c.id);
    let handled = match update.kind {
        UpdateKind::Message(message) => on_message(bot, message).await,
        UpdateKind::CallbackQuery(query) => on_callback(bot, query).await,
        UpdateKind::PreCheckoutQuery(query) => balance::pre_checkout(bot, query).await,
        _ => Ok(()),
    };
    match (handled, chat) {
        (Err(BotError::Api(error)), Some(chat)) if error.code() == ErrorCode::Forbidden => {
            tell_forbidden(bot, chat, &error).await
        }
        (other, _) => other,
    }
}

/// The operator blocked this user: they hear so, with the reason the API gave.
async fn tell_forbidden(bot: &BotCtx, chat: ChatId, error: &ApiError) -> Result<()> {
    let t = state::load(bot.cache.as_ref(), chat.0).await.lang.unwrap_or_default().texts();
    let text = texts::fill(t.blocked, &[("reason", &error.message())]);
    bot.deliver(chat, bot.api.send_message(chat, text)).await?;
    Ok(())
}

/// After the last attempt failed: the user hears that something went wrong (best effort).
pub async fn apologise(bot: &BotCtx, payload: &str) {
    let Ok(update) = serde_json::from_str::<Update>(payload) else { return };
    let Some(chat) = update.chat().map(|c| c.id) else { return };
    let t = state::load(bot.cache.as_ref(), chat.0).await.lang.unwrap_or_default().texts();
    if let Err(error) = bot
        .deliver(chat, bot.api.send_message(chat, t.error).reply_markup(keyboards::main_menu(t, bot.web_app.as_ref())))
        .await
    {
        tracing::debug!(%error, "could not apologise for a failed update");
    }
}

async fn on_message(bot: &BotCtx, message: Message) -> Result<()> {
    let Some(from) = message.from.clone() else { return Ok(()) };
    let text = message.text().unwrap_or_default().trim().to_owned();
    let start_payload = text.strip_prefix("/start ").map(|p| p.trim().chars().take(64).collect());
    let mut turn = Turn::begin(bot, message.chat.id, &from, start_payload, None).await?;
    let result = route_message(&mut turn, &message, &text).await;
    tell_rate_limit(&mut turn, result).await
}

async fn route_message(turn: &mut Turn<'_>, message: &Message, text: &str) -> Result<()> {
    if let Some(payment) = message.successful_payment() {
        return balance::paid(turn, payment).await;
    }
    if matches!(message.kind, teloxide::types::MessageKind::RefundedPayment(_)) {
        return Ok(()); // Telegram's note of a refund we made; the notifier told the user
    }
    if let Some(file_id) = avatars::photo_file(message) {
        return avatars::photo_received(turn, file_id).await;
    }
    let command = text.split_whitespace().next().unwrap_or_default();
    let command = command.split('@').next().unwrap_or_default();
    match command {
        "/start" | "/menu" => {
            turn.state.draft = Default::default();
            menu::show(turn).await
        }
        "/help" => menu::help(turn).await,
        "/settings" => settings::show(turn).await,
        "/invite" => menu::invite(turn).await,
        "/mydata" | "/exportmydata" => privacy::export(turn).await,
        "/deletemydata" => privacy::ask_delete(turn).await,
        "/language" => menu::pick_language(turn).await,
        "/paysupport" => balance::paysupport(turn).await,
        "/balance" => balance::show(turn).await,
        "/promo" => match text.split_whitespace().nth(1) {
            Some(code) => balance::redeem(turn, code).await,
            None => balance::ask_promo(turn).await,
        },
        "/gallery" => gallery::show_first(turn).await,
        _ if turn.state.screen == Screen::AwaitPrompt && !text.is_empty() && !command.starts_with('/') => {
            create::prompt_received(turn, text).await
        }
        _ if turn.state.screen == Screen::AwaitSubject && !text.is_empty() && !command.starts_with('/') => {
            styles::subject_received(turn, text).await
        }
        _ if turn.state.screen == Screen::AwaitAvatarRename && !text.is_empty() && !command.starts_with('/') => {
            avatars::rename_received(turn, text).await
        }
        _ if turn.state.screen == Screen::AwaitEditedPrompt && !text.is_empty() && !command.starts_with('/') => {
            again::prompt_received(turn, text).await
        }
        _ if turn.state.screen == Screen::AwaitPromo && !text.is_empty() && !command.starts_with('/') => {
            balance::redeem(turn, text).await
        }
        _ if turn.state.screen == Screen::AwaitAvatarName && !text.is_empty() && !command.starts_with('/') => {
            avatars::name_received(turn, text).await
        }
        "/avatars" => avatars::list(turn).await,
        _ => {
            let t = turn.t();
            turn.send(t.unknown_command, None).await.map(drop)
        }
    }
}

/// Over a budget, the user hears how long to wait (in seconds, as the API said).
async fn tell_rate_limit(turn: &mut Turn<'_>, result: Result<()>) -> Result<()> {
    match result {
        Err(BotError::Api(error)) if error.code() == ErrorCode::RateLimited => {
            let seconds = error.details().retry_after.unwrap_or(60);
            let text = texts::fill(turn.t().slow_down, &[("seconds", &seconds)]);
            turn.send(&text, None).await.map(drop)
        }
        other => other,
    }
}

async fn on_callback(bot: &BotCtx, query: CallbackQuery) -> Result<()> {
    // First, so that the button stops spinning whatever happens next.
    if let Err(error) = retrying(bot.api.answer_callback_query(query.id.clone())).await {
        tracing::debug!(%error, "could not answer a callback query");
    }
    let Some(message) = query.regular_message() else { return Ok(()) };
    let origin = Origin {
        message_id: message.id,
        is_photo: message.photo().is_some() || message.animation().is_some() || message.video().is_some(),
        markup: message.reply_markup().cloned(),
    };
    let mut turn = Turn::begin(bot, message.chat.id, &query.from, None, Some(origin)).await?;
    let Some(callback) = query.data.as_deref().and_then(Callback::decode) else { return Ok(()) };
    let routed = route(&mut turn, callback).await;
    let result = tell_rate_limit(&mut turn, routed).await;
    let t = turn.t();
    match result {
        Err(error) if error.is_transient() => Err(error),
        Err(BotError::Api(error)) if error.code() == ErrorCode::NotFound => turn.send(t.gone, None).await.map(drop),
        Err(BotError::Api(error)) if error.code() == ErrorCode::Forbidden => Err(BotError::Api(error)),
        Err(BotError::Api(error)) => {
            tracing::warn!(%error, "the API refused a bot operation");
            turn.send(t.error, Some(keyboards::main_menu(t, turn.bot.web_app.as_ref()))).await.map(drop)
        }
        other => other,
    }
}

async fn route(turn: &mut Turn<'_>, callback: Callback) -> Result<()> {
    match callback {
        Callback::Menu => menu::show(turn).await,
        Callback::Back => back(turn).await,
        Callback::Help => menu::help(turn).await,
        Callback::Avatars => avatars::list(turn).await,
        Callback::NewAvatar => avatars::ask_name(turn).await,
        Callback::AvatarKind(style) => avatars::kind_chosen(turn, style).await,
        Callback::OpenAvatar(id) => avatars::open(turn, &id).await,
        Callback::AvatarPhotos(id) => avatars::ask_photos(turn, &id).await,
        Callback::TrainAvatar(id) => avatars::train(turn, &id).await,
        Callback::CancelTraining(id) => avatars::cancel_training(turn, &id).await,
        Callback::UseAvatar(id) => avatars::use_avatar(turn, &id).await,
        Callback::AskDeleteAvatar(id) => avatars::ask_delete(turn, &id).await,
        Callback::RenameAvatar(id) => avatars::ask_rename(turn, &id).await,
        Callback::MainAvatar(id) => avatars::make_main(turn, &id).await,
        Callback::DeleteAvatar(id) => avatars::delete(turn, &id).await,
        Callback::Language(code) if code == "pick" => menu::pick_language(turn).await,
        Callback::Language(code) => menu::set_language(turn, &code).await,
        Callback::Create => create::ask_prompt(turn).await,
        Callback::Ratio(ratio) => create::ratio_chosen(turn, ratio).await,
        Callback::Count(n) => create::count_chosen(turn, n).await,
        Callback::ConfirmGeneration => create::confirmed(turn).await,
        Callback::Enhance => create::enhance(turn).await,
        Callback::UseEnhanced => create::use_enhanced(turn).await,
        Callback::Again(id) => create::again(turn, &id).await,
        Callback::ShowPrompt(id) => create::show_prompt(turn, &id).await,
        Callback::SameSeed(id) => again::same_seed(turn, &id).await,
        Callback::Variations(id) => again::variations(turn, &id).await,
        Callback::EditPrompt(id) => again::ask_prompt(turn, &id).await,
        Callback::Animate(id) => again::animate(turn, &id).await,
        Callback::Video => again::video_intro(turn).await,
        Callback::Styles => styles::categories(turn).await,
        Callback::StyleCategory(id) => styles::category(turn, &id).await,
        Callback::FavoriteStyles => styles::favorites(turn).await,
        Callback::StyleTemplate(id) => styles::card(turn, &id).await,
        Callback::UseStyle(id) => styles::use_style(turn, &id).await,
        Callback::StyleFavorite(id) => styles::toggle_favorite(turn, &id).await,
        Callback::Favorite(id) => create::favorite_from_result(turn, &id).await,
        Callback::OpenInGallery(id) => gallery::open_at(turn, &id).await,
        Callback::Gallery => gallery::show_first(turn).await,
        Callback::Previous(id) => gallery::step(turn, &id, false).await,
        Callback::Next(id) => gallery::step(turn, &id, true).await,
        Callback::ToggleFavorite(id) => gallery::toggle_favorite(turn, &id).await,
        Callback::AskDelete(id) => gallery::ask_delete(turn, &id).await,
        Callback::Delete(id) => gallery::delete(turn, &id).await,
        Callback::Filters => gallery::filters(turn).await,
        Callback::FilterType(kind) => gallery::set_filter(turn, |f| f.kind = kind).await,
        Callback::FilterFavorites => gallery::set_filter(turn, |f| f.favorites = !f.favorites).await,
        Callback::FilterPeriod(period) => gallery::set_period(turn, period).await,
        Callback::SavedFilter(index) => gallery::saved_filter(turn, index).await,
        Callback::Stats => gallery::stats(turn).await,
        Callback::Balance => balance::show(turn).await,
        Callback::TopUp => balance::top_up(turn).await,
        Callback::Buy(id) => balance::buy(turn, &id).await,
        Callback::PaySupport => balance::paysupport(turn).await,
        Callback::Promo => balance::ask_promo(turn).await,
        Callback::History => balance::history(turn).await,
        Callback::Invite => menu::invite(turn).await,
        Callback::Spending(period) => balance::spending(turn, period).await,
        Callback::Settings => settings::show(turn).await,
        Callback::Setting(setting) => settings::change(turn, setting).await,
        Callback::ExportData => privacy::export(turn).await,
        Callback::AskDeleteAccount => privacy::ask_delete(turn).await,
        Callback::DeleteAccount => privacy::delete(turn).await,
        Callback::Refund(id) => balance::ask_refund(turn, &id).await,
        Callback::ConfirmRefund(id) => balance::refund(turn, &id).await,
        Callback::Noop => Ok(()),
    }
}

/// "Back": to the parent of the screen on display.
async fn back(turn: &mut Turn<'_>) -> Result<()> {
    match turn.state.screen.parent() {
        Screen::AwaitPrompt if turn.state.draft.style.is_some() => styles::ask_subject(turn).await,
        Screen::AwaitPrompt => create::ask_prompt(turn).await,
        Screen::Styles => styles::categories(turn).await,
        Screen::Ratio => create::ask_ratio(turn).await,
        Screen::Count => create::ask_count(turn).await,
        Screen::Confirm => create::confirm(turn).await,
        Screen::Gallery => gallery::show_current(turn).await,
        Screen::Balance => balance::show(turn).await,
        Screen::PaySupport => balance::paysupport(turn).await,
        Screen::Avatars => avatars::list(turn).await,
        Screen::Avatar => match turn.state.avatar.clone() {
            Some(id) => avatars::open(turn, &id).await,
            None => avatars::list(turn).await,
        },
        Screen::AwaitAvatarName => avatars::ask_name(turn).await,
        Screen::Settings => settings::show(turn).await,
        _ => menu::show(turn).await,
    }
}

/// What Telegram tells us about the sender (trusted: the update came with our webhook secret).
fn profile(user: &User) -> TelegramProfile {
    TelegramProfile {
        telegram_id: user.id.0 as i64,
        username: user.username.clone(),
        first_name: Some(user.first_name.clone()),
        last_name: user.last_name.clone(),
        language_code: user.language_code.clone(),
    }
}

/// The message a button was pressed on.
pub struct Origin {
    pub message_id: MessageId,
    /// A photo or clip: its text is a caption, and its media can be edited.
    pub is_photo: bool,
    pub markup: Option<InlineKeyboardMarkup>,
}

/// One update being handled: who, where, and the chat's state.
pub struct Turn<'a> {
    pub bot: &'a BotCtx,
    pub chat: ChatId,
    pub actor: Actor,
    pub state: ChatState,
    pub origin: Option<Origin>,
}

impl<'a> Turn<'a> {
    async fn begin(
        bot: &'a BotCtx,
        chat: ChatId,
        from: &User,
        start_payload: Option<String>,
        origin: Option<Origin>,
    ) -> Result<Turn<'a>> {
        let profile = profile(from);
        let state = state::load(bot.cache.as_ref(), chat.0).await;
        let mut turn = Turn { bot, chat, actor: Actor::Sender { profile, start_payload }, state, origin };
        if turn.state.lang.is_none() {
            // A chat we do not know (or forgot): the language the user chose, else Telegram's
            // (also for a blocked user, whose payments are still recorded).
            let code = match turn.execute::<Me>(me::Variables).await {
                Ok(data) => data.me.language_code,
                Err(BotError::Api(error)) if error.code() == ErrorCode::Forbidden => from.language_code.clone(),
                Err(error) => return Err(error),
            };
            turn.state.lang = Some(Lang::from_code(code.as_deref()));
        }
        Ok(turn)
    }

    pub fn lang(&self) -> Lang {
        self.state.lang.unwrap_or_default()
    }

    pub fn t(&self) -> &'static Texts {
        self.lang().texts()
    }

    /// Runs one of the bot's operations as the sender.
    pub async fn execute<Op: GraphQLQuery>(&self, variables: Op::Variables) -> Result<Op::ResponseData> {
        Ok(self.bot.gql.execute::<Op>(&self.actor, variables).await?)
    }

    /// A new message.
    pub async fn send(&self, text: &str, keyboard: Option<InlineKeyboardMarkup>) -> Result<Message> {
        let mut request = self.bot.api.send_message(self.chat, text);
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        Ok(self.bot.deliver(self.chat, request).await?)
    }

    /// Shows a text screen: in place of the message the button was on when that is a text
    /// message, else as a new message (a photo card cannot turn into text: it is removed).
    pub async fn show(&mut self, screen: Screen, text: &str, keyboard: Option<InlineKeyboardMarkup>) -> Result<()> {
        self.state.screen = screen;
        let shown = match &self.origin {
            Some(origin) if !origin.is_photo => {
                let mut request = self.bot.api.edit_message_text(self.chat, origin.message_id, text);
                if let Some(keyboard) = keyboard {
                    request = request.reply_markup(keyboard);
                }
                match retrying(request).await {
                    Ok(_) => {}
                    Err(error) if is_unchanged(&error) => {}
                    Err(error) => return Err(error.into()),
                }
                origin.message_id
            }
            Some(origin) => {
                let card = origin.message_id;
                let sent = self.send(text, keyboard).await?;
                self.forget_card(card).await;
                sent.id
            }
            None => self.send(text, keyboard).await?.id,
        };
        self.state.screen_message = Some(shown.0);
        self.save().await
    }

    /// "Not enough credits", with the numbers the API gave, and a way to top up.
    pub async fn show_not_enough(&mut self, screen: Screen, error: &ApiError) -> Result<()> {
        let t = self.t();
        let details = error.details();
        let (needed, available) = (details.needed.unwrap_or_default(), details.available.unwrap_or_default());
        let text = texts::fill(t.not_enough, &[("needed", &needed), ("available", &available)]);
        self.show(screen, &text, Some(keyboards::not_enough(t))).await
    }

    /// Deletes the gallery card message (leaving the gallery).
    async fn forget_card(&mut self, message_id: MessageId) {
        if let Err(error) = retrying(self.bot.api.delete_message(self.chat, message_id)).await {
            tracing::debug!(%error, "could not delete a gallery card");
        }
        self.state.card = None;
    }

    pub async fn save(&self) -> Result<()> {
        Ok(state::save(self.bot.cache.as_ref(), self.chat.0, &self.state).await?)
    }
}
