//! The catalogue shipped with the product (`assets/styles.json`, built into the binary).

use super::model::{CategoryInput, TemplateInput};
use crate::domain::{Error, Result};

const SHIPPED: &str = include_str!("../../../assets/styles.json");

#[derive(serde::Deserialize)]
pub struct Catalog {
    pub categories: Vec<CategoryInput>,
    pub templates: Vec<TemplateInput>,
}

pub fn shipped() -> Result<Catalog> {
    serde_json::from_str(SHIPPED).map_err(|e| Error::internal(format!("assets/styles.json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::generations::default_catalog;

    #[test]
    fn the_shipped_catalogue_is_valid_and_uses_models_on_offer() {
        let catalog = shipped().expect("it parses");
        let models = default_catalog();
        assert!(catalog.templates.len() >= 12, "a dozen to start");
        for category in &catalog.categories {
            category.check().expect("a valid category");
        }
        for template in &catalog.templates {
            template.check().unwrap_or_else(|e| panic!("{}: {e}", template.slug));
            assert!(models.iter().any(|m| m.id == template.model && !m.needs_avatar), "{}", template.slug);
            assert!(catalog.categories.iter().any(|c| c.slug == template.category), "{}", template.slug);
        }
    }
}
