//! Prompt help: a prompt that is not in English is translated before it goes to an image model,
//! and a user may ask for an enhanced prompt (more detail, light, lens), which they see before
//! anything uses it. Both are asked of a language model through the provider.

use super::model::Prompt;

/// What the language model is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptTask {
    Translate,
    Enhance,
}

impl PromptTask {
    /// The instructions that go with the user's text.
    pub fn instructions(self) -> &'static str {
        match self {
            PromptTask::Translate => {
                "You translate prompts for an image generation model into English. Answer with the \
                 English translation only: no quotes, no comments. Keep names, numbers and style words."
            }
            PromptTask::Enhance => {
                "You improve prompts for an image generation model. Rewrite the user's idea as one \
                 English prompt of at most 80 words that keeps its subject and adds concrete detail: \
                 setting, composition, lighting, lens and mood. Answer with the prompt only."
            }
        }
    }
}

/// Whether a prompt should be translated: it has Cyrillic, or letters outside ASCII make up more
/// than a fifth of its letters (an English prompt with a café or a naïve style stays as it is).
pub fn needs_translation(prompt: &str) -> bool {
    let (mut letters, mut foreign) = (0usize, 0usize);
    for c in prompt.chars().filter(|c| c.is_alphabetic()) {
        if matches!(c, '\u{0400}'..='\u{04FF}') {
            return true;
        }
        letters += 1;
        foreign += usize::from(!c.is_ascii());
    }
    letters > 0 && foreign * 5 > letters
}

/// A language model's answer as a prompt: trimmed of quotes and whitespace, within the prompt's
/// limit; None when nothing usable is left.
pub fn prompt_from_reply(reply: &str) -> Option<Prompt> {
    let text = reply.trim().trim_matches(|c| matches!(c, '"' | '“' | '”' | '«' | '»' | '\'')).trim();
    let text: String = text.chars().take(Prompt::MAX_CHARS).collect();
    Prompt::parse(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_mostly_foreign_prompts_are_translated() {
        assert!(needs_translation("рыжий кот в шляпе"));
        assert!(needs_translation("a cat, рыжий"));
        assert!(needs_translation("猫が帽子をかぶっている"));
        assert!(!needs_translation("a naïve painting of a café at night"));
        assert!(!needs_translation("a red fox, 35mm"));
        assert!(!needs_translation("1234 !!!"));
    }

    #[test]
    fn a_reply_becomes_a_prompt_without_its_quotes() {
        assert_eq!(
            prompt_from_reply(" \"a ginger cat\"\n").map(|p| p.as_str().to_owned()),
            Some("a ginger cat".into())
        );
        assert_eq!(prompt_from_reply("«»"), None);
        assert_eq!(prompt_from_reply(&"a".repeat(3000)).map(|p| p.as_str().len()), Some(Prompt::MAX_CHARS));
    }
}
