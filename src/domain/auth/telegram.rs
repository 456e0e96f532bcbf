//! Checks Telegram sign-in data as Telegram documents it: the Mini App's `initData`
//! (secret = HMAC-SHA256("WebAppData", bot token)) and the Login Widget's fields sent as a
//! query string (secret = SHA-256(bot token)). Both sign the sorted `key=value` lines.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::domain::users::TelegramProfile;

type HmacSha256 = Hmac<Sha256>;

/// Data older than this is refused (a replayed sign-in).
/// The default for `AISHA_SIGN_IN_MAX_AGE_SECS`: an hour.
pub const MAX_AGE_SECS: i64 = 60 * 60;
/// Clocks differ; data from slightly in the future is accepted.
const MAX_CLOCK_SKEW_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("the sign-in data is malformed: {0}")]
    Malformed(&'static str),
    #[error("the sign-in data has a wrong signature")]
    BadSignature,
    #[error("the sign-in data has expired; open the app again")]
    Expired,
}

/// Verifies `raw` against the bot token and returns who signed in.
pub fn verify_telegram_data(
    raw: &str,
    bot_token: &str,
    now_secs: i64,
    max_age_secs: i64,
) -> Result<TelegramProfile, InitDataError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw.trim().trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let hash_index = pairs.iter().position(|(k, _)| k == "hash").ok_or(InitDataError::Malformed("no hash"))?;
    let (_, hash) = pairs.remove(hash_index);
    let expected = hex::decode(&hash).map_err(|_| InitDataError::Malformed("hash is not hex"))?;
    pairs.sort();
    let check_string = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());

    let is_mini_app = field("user").is_some();
    let secret: Vec<u8> = if is_mini_app {
        hmac(b"WebAppData", bot_token.as_bytes())
    } else {
        Sha256::digest(bot_token.as_bytes()).to_vec()
    };
    let mut mac = HmacSha256::new_from_slice(&secret).map_err(|_| InitDataError::BadSignature)?;
    mac.update(check_string.as_bytes());
    mac.verify_slice(&expected).map_err(|_| InitDataError::BadSignature)?;

    let auth_date: i64 = field("auth_date")
        .ok_or(InitDataError::Malformed("no auth_date"))?
        .parse()
        .map_err(|_| InitDataError::Malformed("auth_date is not a number"))?;
    if now_secs - auth_date > max_age_secs || auth_date - now_secs > MAX_CLOCK_SKEW_SECS {
        return Err(InitDataError::Expired);
    }
    if is_mini_app {
        profile_from_mini_app(field("user").unwrap_or_default())
    } else {
        Ok(TelegramProfile {
            telegram_id: field("id").and_then(|v| v.parse().ok()).ok_or(InitDataError::Malformed("no id"))?,
            username: field("username").map(str::to_owned),
            first_name: field("first_name").map(str::to_owned),
            last_name: field("last_name").map(str::to_owned),
            language_code: None,
        })
    }
}

/// The Mini App's `start_param` (the `startapp` of the link that opened it), read from sign-in
/// data that `verify_telegram_data` accepted.
pub fn start_param(raw: &str) -> Option<String> {
    form_urlencoded::parse(raw.trim().trim_start_matches('?').as_bytes())
        .find(|(k, _)| k == "start_param")
        .map(|(_, v)| v.chars().take(64).collect())
}

fn profile_from_mini_app(user_json: &str) -> Result<TelegramProfile, InitDataError> {
    #[derive(serde::Deserialize)]
    struct WebAppUser {
        id: i64,
        username: Option<String>,
        first_name: Option<String>,
        last_name: Option<String>,
        language_code: Option<String>,
    }
    let user: WebAppUser = serde_json::from_str(user_json).map_err(|_| InitDataError::Malformed("user is not JSON"))?;
    Ok(TelegramProfile {
        telegram_id: user.id,
        username: user.username,
        first_name: user.first_name,
        last_name: user.last_name,
        language_code: user.language_code,
    })
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Signs data the way Telegram does: for tests and tools that play Telegram.
pub fn sign_telegram_data(fields: &[(&str, &str)], bot_token: &str, mini_app: bool) -> String {
    let mut sorted: Vec<_> = fields.to_vec();
    sorted.sort();
    let check_string = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n");
    let secret = if mini_app {
        hmac(b"WebAppData", bot_token.as_bytes())
    } else {
        Sha256::digest(bot_token.as_bytes()).to_vec()
    };
    let hash = hex::encode(hmac(&secret, check_string.as_bytes()));
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        query.append_pair(k, v);
    }
    query.append_pair("hash", &hash);
    query.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456:TEST-TOKEN";
    const NOW: i64 = 1_800_000_000;

    fn mini_app(auth_date: i64) -> String {
        let date = auth_date.to_string();
        let user = r#"{"id":42,"first_name":"Ann","username":"ann","language_code":"ru"}"#;
        sign_telegram_data(&[("auth_date", &date), ("query_id", "AAH"), ("user", user)], TOKEN, true)
    }

    #[test]
    fn accepts_a_signed_mini_app_payload() {
        let profile = verify_telegram_data(&mini_app(NOW - 60), TOKEN, NOW, MAX_AGE_SECS).expect("valid");
        assert_eq!(profile.telegram_id, 42);
        assert_eq!(profile.language_code.as_deref(), Some("ru"));
    }

    #[test]
    fn accepts_login_widget_fields() {
        let date = (NOW - 10).to_string();
        let raw = sign_telegram_data(&[("id", "7"), ("first_name", "Bo"), ("auth_date", &date)], TOKEN, false);
        assert_eq!(verify_telegram_data(&raw, TOKEN, NOW, MAX_AGE_SECS).expect("valid").telegram_id, 7);
    }

    #[test]
    fn refuses_forged_stale_and_malformed_data() {
        let forged = mini_app(NOW).replace("Ann", "Eve");
        assert_eq!(verify_telegram_data(&forged, TOKEN, NOW, MAX_AGE_SECS), Err(InitDataError::BadSignature));
        assert_eq!(
            verify_telegram_data(&mini_app(NOW), "other:token", NOW, MAX_AGE_SECS),
            Err(InitDataError::BadSignature)
        );
        assert_eq!(
            verify_telegram_data(&mini_app(NOW - MAX_AGE_SECS - 1), TOKEN, NOW, MAX_AGE_SECS),
            Err(InitDataError::Expired)
        );
        assert!(matches!(verify_telegram_data("user=1", TOKEN, NOW, MAX_AGE_SECS), Err(InitDataError::Malformed(_))));
    }

    proptest::proptest! {
        /// Arbitrary sign-in data is refused, never accepted and never a panic.
        #[test]
        fn arbitrary_init_data_is_refused(raw in "\\PC{0,300}") {
            proptest::prop_assert!(verify_telegram_data(&raw, TOKEN, NOW, MAX_AGE_SECS).is_err());
        }

        /// Fields shaped like Telegram's but unsigned (or signed with another token) are refused.
        #[test]
        fn forged_fields_are_refused(id in 1i64..i64::MAX, name in "\\PC{0,40}", hash in "[0-9a-f]{64}") {
            let user = serde_json::json!({ "id": id, "first_name": name }).to_string();
            let forged = format!("auth_date={NOW}&user={}&hash={hash}", form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>());
            proptest::prop_assert!(verify_telegram_data(&forged, TOKEN, NOW, MAX_AGE_SECS).is_err());
            let other = sign_telegram_data(&[("auth_date", &NOW.to_string()), ("user", &user)], "999:OTHER", true);
            proptest::prop_assert!(verify_telegram_data(&other, TOKEN, NOW, MAX_AGE_SECS).is_err());
        }

        /// What Telegram signs is accepted, whatever the user's name.
        #[test]
        fn signed_data_is_accepted(id in 1i64..1_000_000_000_000, name in "\\PC{1,40}") {
            let user = serde_json::json!({ "id": id, "first_name": name }).to_string();
            let signed = sign_telegram_data(&[("auth_date", &NOW.to_string()), ("user", &user)], TOKEN, true);
            let profile = verify_telegram_data(&signed, TOKEN, NOW, MAX_AGE_SECS);
            proptest::prop_assert_eq!(profile.map(|p| p.telegram_id), Ok(id));
        }
    }
}
