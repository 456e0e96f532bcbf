//! A PostgreSQL schema per test: created on start, dropped when the test ends.

use sea_orm::{ConnectionTrait, Database};

pub fn base_url() -> Option<String> {
    std::env::var("AISHA_TEST_DATABASE_URL").ok().filter(|v| !v.is_empty())
}

pub fn available() -> bool {
    base_url().is_some()
}

pub struct TestSchema {
    pub name: String,
    pub url: String,
    base: String,
}

impl TestSchema {
    pub async fn create() -> Self {
        let base = base_url().expect("AISHA_TEST_DATABASE_URL");
        let name = format!("aisha_test_{:016x}", rand::random::<u64>());
        let admin = Database::connect(&base).await.expect("connect to AISHA_TEST_DATABASE_URL");
        admin.execute_unprepared(&format!("CREATE SCHEMA {name}")).await.expect("create schema");
        let _ = admin.close().await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{name}");
        TestSchema { name, url, base }
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs outside any async context we could borrow: use a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(db) = Database::connect(&base).await {
                    let _ = db.execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}
