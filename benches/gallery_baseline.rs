//! The yardstick for `bench/gallery.sh`: the same gallery page served by a bare axum + sqlx
//! handler with one prepared statement — no GraphQL, no middleware — as issue 4 describes it.
//! It tells what the machine of the day can do, so that our numbers can be read against it
//! (machines here differ by a third from one session to the next).
//!
//! Usage: `gallery_baseline <database url> <bind address> <token>` (run by
//! `BASELINE=1 bench/gallery.sh`). It answers `POST /graphql` with the page whatever the body.
//! `BASELINE_ALL_COLUMNS=1` reads every column, as our domain model does; `BASELINE_HOLD=1` runs
//! the query on connections held outside sqlx's pool, which pings each connection it takes back
//! (a second round trip to PostgreSQL per query).

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use sea_orm::sqlx::{PgPool, Row, postgres::PgPoolOptions};
use serde_json::json;

// The same allocator as the server, so that the comparison is about the request path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone)]
struct Baseline {
    pool: PgPool,
    /// BASELINE_HOLD: connections held outside sqlx's pool.
    held: Option<std::sync::Arc<Held>>,
    token: String,
    sql: &'static str,
}

/// Connections held open outside sqlx's pool, which pings a connection each time it is returned.
struct Held {
    idle: std::sync::Mutex<Vec<sea_orm::sqlx::PgConnection>>,
    permits: tokio::sync::Semaphore,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, database_url, bind, token] = args.as_slice() else {
        eprintln!("usage: gallery_baseline <database url> <bind address> <token>");
        std::process::exit(2);
    };
    let pool = PgPoolOptions::new().max_connections(16).connect(database_url).await.expect("connects to PostgreSQL");
    let held = if std::env::var_os("BASELINE_HOLD").is_some() {
        let mut idle = Vec::new();
        for _ in 0..16 {
            idle.push(pool.acquire().await.expect("a connection").detach());
        }
        Some(std::sync::Arc::new(Held { idle: std::sync::Mutex::new(idle), permits: tokio::sync::Semaphore::new(16) }))
    } else {
        None
    };
    let app =
        Router::new().route("/graphql", post(page)).route("/healthz", get(|| async { "ok" })).with_state(Baseline {
            pool,
            held,
            token: token.clone(),
            // BASELINE_ALL_COLUMNS: every column of the row, as the server's domain model reads it.
            sql: if std::env::var_os("BASELINE_ALL_COLUMNS").is_some() {
                "SELECT id, storage_key, width, height, kind, favorited_at IS NOT NULL, user_id, generation_id, \
                 avatar_id, model, prompt, aspect_ratio, bucket, content_type, byte_size, sha256, created_at, \
                 telegram_file_id FROM images WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 21"
            } else {
                "SELECT id, storage_key, width, height, kind, favorited_at IS NOT NULL FROM images \
                 WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 21"
            },
        });
    let listener = tokio::net::TcpListener::bind(bind).await.expect("binds");
    axum::serve(listener, app).await.expect("serves");
}

async fn page(State(baseline): State<Baseline>, headers: HeaderMap) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == baseline.token);
    if !authorized {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let sql = baseline.sql;
    let rows = if let Some(held) = &baseline.held {
        let _permit = held.permits.acquire().await.expect("open");
        let mut conn = held.idle.lock().expect("lock").pop().expect("a connection per permit");
        let rows = sea_orm::sqlx::query(sql).bind(1_i64).fetch_all(&mut conn).await;
        held.idle.lock().expect("lock").push(conn);
        rows
    } else {
        sea_orm::sqlx::query(sql).bind(1_i64).fetch_all(&baseline.pool).await
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response();
        }
    };
    let edges: Vec<_> = rows
        .iter()
        .take(20)
        .map(|row| {
            let id: i64 = row.get(0);
            let key: &str = row.get(1);
            json!({ "node": {
                "id": format!("Image:{id}"),
                "url": format!("/files/images/{key}"),
                "width": row.get::<i32, _>(2),
                "height": row.get::<i32, _>(3),
                "type": row.get::<&str, _>(4),
                "favorite": row.get::<bool, _>(5),
            } })
        })
        .collect();
    let body = json!({ "data": { "gallery": { "edges": edges } } });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}
