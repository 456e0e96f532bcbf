//! The "Styles" path under Create: categories → a category's templates → a template's card with
//! its preview → your subject → then the usual format, count and confirmation. The API fills
//! the template's prompt; the bot only carries the template's id, model and format.

use teloxide::payloads::{EditMessageReplyMarkupSetters, SendPhotoSetters};
use teloxide::prelude::Requester;

use super::{Result, Turn};
use crate::telegram::callback::Callback;
use crate::telegram::keyboards;
use crate::telegram::operations::{
    FavoriteStyleTemplates, SetStyleTemplateFavorite, StyleCategories, StyleTemplate, StyleTemplates,
    favorite_style_templates, set_style_template_favorite, style_categories, style_template, style_templates,
};
use crate::telegram::outgoing;
use crate::telegram::state::{Draft, DraftStyle, Screen};
use crate::telegram::texts::{Lang, fill, truncate};

/// A name in the chat's language.
fn name<'a>(lang: Lang, en: &'a str, ru: &'a str) -> &'a str {
    match lang {
        Lang::Ru => ru,
        Lang::En => en,
    }
}

pub async fn categories(turn: &mut Turn<'_>) -> Result<()> {
    turn.state.draft.style = None;
    let data = turn.execute::<StyleCategories>(style_categories::Variables).await?;
    let lang = turn.lang();
    let entries = data
        .style_categories
        .iter()
        .map(|c| (format!("{} {}", c.icon, name(lang, &c.name_en, &c.name_ru)), Callback::StyleCategory(c.id.clone())))
        .collect();
    let t = turn.t();
    let keyboard = keyboards::style_list(t, entries, !data.favorite_style_templates.is_empty());
    turn.show(Screen::Styles, t.styles, Some(keyboard)).await
}

pub async fn category(turn: &mut Turn<'_>, category_id: &str) -> Result<()> {
    let variables = style_templates::Variables { category_id: Some(category_id.to_owned()) };
    let templates = turn.execute::<StyleTemplates>(variables).await?.style_templates;
    let categories = turn.execute::<StyleCategories>(style_categories::Variables).await?.style_categories;
    let lang = turn.lang();
    let title = categories
        .iter()
        .find(|c| c.id == category_id)
        .map_or_else(String::new, |c| format!("{} {}", c.icon, name(lang, &c.name_en, &c.name_ru)));
    let entries = templates
        .iter()
        .map(|s| (format!("{} {}", s.icon, name(lang, &s.name_en, &s.name_ru)), Callback::StyleTemplate(s.id.clone())))
        .collect();
    let t = turn.t();
    let text = fill(t.style_list, &[("category", &title)]);
    turn.show(Screen::StyleList, &text, Some(keyboards::style_list(t, entries, false))).await
}

pub async fn favorites(turn: &mut Turn<'_>) -> Result<()> {
    let templates =
        turn.execute::<FavoriteStyleTemplates>(favorite_style_templates::Variables).await?.favorite_style_templates;
    let lang = turn.lang();
    let t = turn.t();
    let text = if templates.is_empty() { t.no_favorite_styles } else { t.favorite_styles };
    let entries = templates
        .iter()
        .map(|s| (format!("{} {}", s.icon, name(lang, &s.name_en, &s.name_ru)), Callback::StyleTemplate(s.id.clone())))
        .collect();
    turn.show(Screen::StyleList, text, Some(keyboards::style_list(t, entries, false))).await
}

async fn template(turn: &Turn<'_>, id: &str) -> Result<style_template::StyleTemplateStyleTemplate> {
    let variables = style_template::Variables { id: id.to_owned() };
    Ok(turn.execute::<StyleTemplate>(variables).await?.style_template)
}

/// The template's card: its preview, name and prompt (the subject shown as …), as a new photo.
pub async fn card(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let style = template(turn, id).await?;
    let t = turn.t();
    let lang = turn.lang();
    let prompt = style.prompt.replace("{subject}", "…");
    let caption = fill(
        t.style_card,
        &[("icon", &style.icon), ("name", &name(lang, &style.name_en, &style.name_ru)), ("prompt", &prompt)],
    );
    let photo = outgoing::photo(&turn.bot.own_links, &style.preview_url, None).await;
    let keyboard = keyboards::style_card(t, &style.id, style.favorite);
    let request = turn.bot.api.send_photo(turn.chat, photo).caption(truncate(&caption, 1024)).reply_markup(keyboard);
    turn.bot.deliver(turn.chat, request).await?;
    turn.state.screen = Screen::StyleCard;
    turn.save().await
}

/// ☆/★ on the card: toggles the favourite and redraws the card's buttons.
pub async fn toggle_favorite(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let favorite = !template(turn, id).await?.favorite;
    let variables = set_style_template_favorite::Variables { id: id.to_owned(), favorite };
    let marked = turn.execute::<SetStyleTemplateFavorite>(variables).await?.set_style_template_favorite;
    let Some(origin) = &turn.origin else { return Ok(()) };
    let keyboard = keyboards::style_card(turn.t(), &marked.id, marked.favorite);
    let request = turn.bot.api.edit_message_reply_markup(turn.chat, origin.message_id).reply_markup(keyboard);
    outgoing::retrying(request).await?;
    Ok(())
}

/// "Create in this style": the draft starts from the template; the subject comes next.
pub async fn use_style(turn: &mut Turn<'_>, id: &str) -> Result<()> {
    let style = template(turn, id).await?;
    turn.state.draft = Draft {
        style: Some(DraftStyle { template_id: style.id, model: style.model, ratio: style.aspect_ratio }),
        ..Draft::default()
    };
    ask_subject_named(turn, name(turn.lang(), &style.name_en, &style.name_ru).to_owned()).await
}

pub async fn ask_subject(turn: &mut Turn<'_>) -> Result<()> {
    let Some(style) = turn.state.draft.style.clone() else { return categories(turn).await };
    let style = template(turn, &style.template_id).await?;
    ask_subject_named(turn, name(turn.lang(), &style.name_en, &style.name_ru).to_owned()).await
}

async fn ask_subject_named(turn: &mut Turn<'_>, style_name: String) -> Result<()> {
    let t = turn.t();
    let text = fill(t.ask_subject, &[("name", &style_name)]);
    turn.show(Screen::AwaitSubject, &text, Some(keyboards::only_back(t))).await
}

/// The subject is kept as typed (the API judges it); then the format, preset to the template's.
pub async fn subject_received(turn: &mut Turn<'_>, text: &str) -> Result<()> {
    turn.state.draft.prompt = Some(text.to_owned());
    super::create::ask_ratio(turn).await
}
