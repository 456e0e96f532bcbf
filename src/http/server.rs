//! The HTTP server: axum's router on hyper connections we configure ourselves, because
//! `axum::serve` sets no timer and so no timeouts. A connection that has not sent its request
//! headers within `header_timeout` is closed (slowloris), and so is a keep-alive connection idle
//! that long between requests (hyper starts the same timer while it waits for the next request);
//! a request body that stalls or trickles below a floor ends in an error. On shutdown the
//! listener is dropped, every connection is told to finish what it is doing, and `serve` returns
//! when they have.

use std::future::Future;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::ConnectionLimits;

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some to close.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |request: axum::http::Request<hyper::body::Incoming>| {
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            axum::http::Request::from_parts(parts, guarded(Body::new(body), limits))
        });
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(limits.header_timeout));
            let connection =
                builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(connection);
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = stopped.wait_for(|stopping| *stopping) => connection.as_mut().graceful_shutdown(),
                }
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// The body as it comes, or an error once it pauses longer than `body_idle` or, past that,
/// averages under the floor.
fn guarded(body: Body, limits: ConnectionLimits) -> Body {
    let started = Instant::now();
    let chunks = body.into_data_stream();
    let guarded = futures_util::stream::unfold(Some((chunks, 0u64)), move |state| async move {
        let (mut chunks, received) = state?;
        let next = match tokio::time::timeout(limits.body_idle, chunks.next()).await {
            Err(_) => return Some((Err(BodyTooSlow.into()), None)),
            Ok(next) => next?,
        };
        match next {
            Ok(chunk) => {
                let received = received + chunk.len() as u64;
                let elapsed = started.elapsed();
                if elapsed > limits.body_idle
                    && received < limits.body_min_bytes_per_sec.saturating_mul(elapsed.as_secs())
                {
                    return Some((Err(BodyTooSlow.into()), None));
                }
                Some((Ok(chunk), Some((chunks, received))))
            }
            Err(error) => Some((Err(std::io::Error::other(error)), None)),
        }
    });
    Body::from_stream(guarded)
}

/// A request body that stalled or came slower than the floor.
#[derive(Debug, thiserror::Error)]
#[error("the request body came too slowly")]
pub struct BodyTooSlow;

impl From<BodyTooSlow> for std::io::Error {
    fn from(error: BodyTooSlow) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, error)
    }
}
