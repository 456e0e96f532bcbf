use crate::domain::time::Micros;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub telegram_id: Option<i64>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
    pub balance: i64,
    pub created_at: Micros,
}

/// What Telegram tells us about a person (sign-in data, or the sender of an update).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TelegramProfile {
    pub telegram_id: i64,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub language_code: Option<String>,
}
