//! Liveness, readiness and Prometheus metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;
use std::time::Duration;

use crate::app::AppState;

pub async fn live() -> &'static str {
    "ok"
}

/// How long a dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready when the database, storage and (if configured) Redis answer in time.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let (database, cache, storage) = tokio::join!(
        check(async { app.db.ping().await.map_err(|e| e.to_string()) }),
        check(async { app.cache.ping().await.map_err(|e| e.to_string()) }),
        check(async { app.storage.ping().await.map_err(|e| format!("{e:#}")) }),
    );
    let ready = database.is_ok() && cache.is_ok() && storage.is_ok();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    // Only ok or failing: the reasons (hosts, users, driver messages) go to the log.
    let show = |name: &str, r: Result<(), String>| match r {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(dependency = name, %error, "not ready");
            "failing"
        }
    };
    let body = json!({ "database": show("database", database), "cache": show("cache", cache), "storage": show("storage", storage) });
    (status, Json(body))
}

async fn check(probe: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, probe).await.unwrap_or_else(|_| Err("timed out".into()))
}

/// Prometheus metrics; behind `Authorization: Bearer <AISHA_METRICS_TOKEN>` when it is set.
pub async fn metrics(State(app): State<AppState>, headers: axum::http::HeaderMap) -> axum::response::Response {
    use secrecy::ExposeSecret;
    if let Some(expected) = &app.config.metrics_token {
        let given =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let matches = given.is_some_and(|given| {
            crate::domain::auth::constant_time_eq(given.as_bytes(), expected.expose_secret().as_bytes())
        });
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "metrics need the metrics token",
            )
                .into_response();
        }
    }
    let mut text = app.metrics.render();
    text.push_str(&backlogs(&app).await);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// What waits in the database, read at each scrape: jobs not yet submitted, Telegram updates
/// not yet handled, notifications not yet delivered, and how long the oldest of each waited.
async fn backlogs(app: &AppState) -> String {
    use crate::domain::jobs::JobKind;
    use std::fmt::Write;
    let services = &app.services;
    let (images, trainings, inbox, notifications, census) = tokio::join!(
        services.jobs.queue_depth(JobKind::Image),
        services.jobs.queue_depth(JobKind::Training),
        services.inbox.backlog(),
        services.notifications.backlog(),
        services.jobs.census(),
    );
    let mut out = String::new();
    out.push_str("# HELP aisha_backlog Work waiting in the database, and the age in seconds of its oldest item.\n");
    out.push_str("# TYPE aisha_backlog gauge\n");
    for (queue, backlog) in [
        ("image_jobs", images),
        ("training_jobs", trainings),
        ("telegram_updates", inbox),
        ("notifications", notifications),
    ] {
        match backlog {
            Ok((count, oldest)) => {
                let _ = writeln!(out, "aisha_backlog{{queue=\"{queue}\"}} {count}");
                let _ = writeln!(
                    out,
                    "aisha_backlog_oldest_seconds{{queue=\"{queue}\"}} {}",
                    oldest.map_or(0.0, |d| d.as_secs_f64())
                );
            }
            Err(error) => tracing::warn!(%error, queue, "could not read a backlog for /metrics"),
        }
    }
    match census {
        Ok(counts) => {
            out.push_str(
                "# HELP aisha_jobs Active jobs of the whole fleet by kind and status.\n# TYPE aisha_jobs gauge\n",
            );
            for count in &counts {
                let _ =
                    writeln!(out, "aisha_jobs{{kind=\"{}\",status=\"{}\"}} {}", count.kind, count.status, count.total);
            }
            out.push_str("# HELP aisha_jobs_held Active jobs this instance holds a claim on now.\n# TYPE aisha_jobs_held gauge\n");
            for count in &counts {
                let _ = writeln!(
                    out,
                    "aisha_jobs_held{{kind=\"{}\",status=\"{}\"}} {}",
                    count.kind, count.status, count.held_here
                );
            }
        }
        Err(error) => tracing::warn!(%error, "could not count the jobs for /metrics"),
    }
    out
}
