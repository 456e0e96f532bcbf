use crate::domain::generations::AspectRatio;
use crate::domain::{Error, Result, time::Micros};

/// The placeholder a template's prompt puts the user's subject in.
pub const SUBJECT: &str = "{subject}";
/// The longest subject a user may give (the prompt around it must fit the model's limit too).
pub const MAX_SUBJECT_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: i64,
    pub slug: String,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    pub sort_order: i32,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub id: i64,
    pub slug: String,
    pub category_id: i64,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    /// With one `{subject}`.
    pub prompt: String,
    /// A model id of the catalogue.
    pub model: String,
    pub aspect_ratio: AspectRatio,
    /// An operator's picture; None: the preview our server draws (`/styles/<slug>/preview.png`).
    pub preview_url: Option<String>,
    pub sort_order: i32,
    pub active: bool,
    pub updated_at: Micros,
}

impl Template {
    /// The prompt with the subject in its place.
    pub fn fill(&self, subject: &str) -> Result<String> {
        let subject = subject.trim();
        let chars = subject.chars().count();
        if chars == 0 || chars > MAX_SUBJECT_CHARS {
            return Err(Error::invalid(format!("subject must be 1-{MAX_SUBJECT_CHARS} characters")));
        }
        Ok(self.prompt.replace(SUBJECT, subject))
    }
}

/// A category as the operator (or the catalogue file) writes it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct CategoryInput {
    pub slug: String,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    pub sort_order: i32,
    #[serde(default = "active")]
    pub active: bool,
}

/// A template as the operator (or the catalogue file) writes it; `category` is a category slug.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct TemplateInput {
    pub slug: String,
    pub category: String,
    pub name_en: String,
    pub name_ru: String,
    pub icon: String,
    pub prompt: String,
    pub model: String,
    pub aspect_ratio: String,
    #[serde(default)]
    pub preview_url: Option<String>,
    pub sort_order: i32,
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

/// A slug: 1–48 of `a-z`, `0-9` and `-`.
pub fn check_slug(slug: &str) -> Result<()> {
    let fine = !slug.is_empty()
        && slug.len() <= 48
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if fine { Ok(()) } else { Err(Error::invalid(format!("{slug:?} is not a slug (a-z, 0-9 and -, at most 48)"))) }
}

fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    let chars = text.trim().chars().count();
    if chars == 0 || chars > max {
        return Err(Error::invalid(format!("{what} must be 1-{max} characters")));
    }
    Ok(())
}

impl CategoryInput {
    pub fn check(&self) -> Result<()> {
        check_slug(&self.slug)?;
        check_text("nameEn", &self.name_en, 64)?;
        check_text("nameRu", &self.name_ru, 64)?;
        check_text("icon", &self.icon, 8)
    }
}

impl TemplateInput {
    /// Checks everything but the model (the catalogue is the service's).
    pub fn check(&self) -> Result<AspectRatio> {
        check_slug(&self.slug)?;
        check_text("nameEn", &self.name_en, 64)?;
        check_text("nameRu", &self.name_ru, 64)?;
        check_text("icon", &self.icon, 8)?;
        check_text("prompt", &self.prompt, 1500)?;
        if self.prompt.matches(SUBJECT).count() != 1 {
            return Err(Error::invalid("a template's prompt must hold {subject} exactly once"));
        }
        if let Some(url) = &self.preview_url {
            let parsed = url::Url::parse(url).map_err(|_| Error::invalid("previewUrl is not a URL"))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(Error::invalid("previewUrl must be http(s)"));
            }
        }
        AspectRatio::parse(&self.aspect_ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TemplateInput {
        TemplateInput {
            slug: "noir".into(),
            category: "portraits".into(),
            name_en: "Noir".into(),
            name_ru: "Нуар".into(),
            icon: "🎬".into(),
            prompt: "noir still of {subject}, hard light".into(),
            model: "fal-ai/imagen4/preview".into(),
            aspect_ratio: "4:3".into(),
            preview_url: None,
            sort_order: 1,
            active: true,
        }
    }

    #[test]
    fn a_template_needs_one_subject_and_a_known_ratio() {
        assert_eq!(input().check().expect("valid"), AspectRatio::Landscape4x3);
        assert!(TemplateInput { prompt: "no placeholder".into(), ..input() }.check().is_err());
        assert!(TemplateInput { prompt: "{subject} and {subject}".into(), ..input() }.check().is_err());
        assert!(TemplateInput { aspect_ratio: "2:1".into(), ..input() }.check().is_err());
        assert!(TemplateInput { slug: "Not A Slug".into(), ..input() }.check().is_err());
        assert!(TemplateInput { preview_url: Some("file:///etc/passwd".into()), ..input() }.check().is_err());
    }
}
