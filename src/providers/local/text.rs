//! The local stand-in for a language model: deterministic, offline, and plainly not a model.
//! "Translation" transliterates Cyrillic into Latin letters; "enhancement" adds the same
//! photographic detail to any prompt.

use crate::domain::generations::prompt_help::PromptTask;

/// What an enhanced prompt gets.
const DETAIL: &str = ", highly detailed, soft natural light, 50mm lens, shallow depth of field";

pub fn complete(task: PromptTask, text: &str) -> String {
    match task {
        PromptTask::Translate => transliterate(text),
        PromptTask::Enhance => format!("{}{DETAIL}", transliterate(text.trim())),
    }
}

fn transliterate(text: &str) -> String {
    text.chars()
        .map(|c| {
            let lower = c.to_lowercase().next().unwrap_or(c);
            let latin = match lower {
                'а' => "a",
                'б' => "b",
                'в' => "v",
                'г' => "g",
                'д' => "d",
                'е' | 'э' => "e",
                'ё' => "yo",
                'ж' => "zh",
                'з' => "z",
                'и' => "i",
                'й' => "y",
                'к' => "k",
                'л' => "l",
                'м' => "m",
                'н' => "n",
                'о' => "o",
                'п' => "p",
                'р' => "r",
                'с' => "s",
                'т' => "t",
                'у' => "u",
                'ф' => "f",
                'х' => "kh",
                'ц' => "ts",
                'ч' => "ch",
                'ш' => "sh",
                'щ' => "shch",
                'ы' => "y",
                'ю' => "yu",
                'я' => "ya",
                'ъ' | 'ь' => "",
                _ => return c.to_string(),
            };
            if c.is_uppercase() {
                let mut letters = latin.chars();
                letters.next().map_or_else(String::new, |f| f.to_uppercase().chain(letters).collect())
            } else {
                latin.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::generations::prompt_help::needs_translation;

    #[test]
    fn the_stand_in_is_deterministic_and_leaves_no_cyrillic() {
        let english = complete(PromptTask::Translate, "Рыжий кот в шляпе");
        assert_eq!(english, "Ryzhiy kot v shlyape");
        assert!(!needs_translation(&english));
        assert_eq!(complete(PromptTask::Enhance, " a fox "), format!("a fox{DETAIL}"));
    }
}
