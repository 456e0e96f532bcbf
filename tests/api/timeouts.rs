//! Slow clients: headers that never finish (slowloris), idle keep-alive connections, and bodies
//! that stall or trickle are cut off, and the server keeps answering everyone else meanwhile.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Db, TestApp, spawn_app_with};

async fn slow_app() -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.connections.header_timeout = Duration::from_secs(1);
        c.connections.body_idle = Duration::from_millis(500);
        c.connections.body_min_bytes_per_sec = 1024;
    })
    .await
}

/// Whether the server closed `stream` within `within` (a read that ends or fails).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue, // an answer (408) before the close is fine
            }
        }
    });
    read.await.is_ok()
}

#[tokio::test]
async fn fifteen_hundred_slow_connections_do_not_stop_the_server_and_are_closed() {
    let app = slow_app().await;
    let mut slow = Vec::with_capacity(1500);
    for _ in 0..1500 {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect (is `ulimit -n` above 3,000?)");
        stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: aisha\r\nContent-Type: app").await.expect("part of a head");
        slow.push(stream);
    }
    // Everyone else is served meanwhile: while the slow ones are still open.
    for _ in 0..5 {
        let response = app.http.get(format!("{}/healthz", app.url)).send().await.expect("healthz while flooded");
        assert_eq!(response.status(), 200);
    }
    let mut probe = [0u8; 16];
    let still_open = slow
        .iter()
        .filter(|s| matches!(s.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock))
        .count();
    assert_eq!(still_open, 1500, "the slow connections were closed before healthz was answered: nothing was tested");
    // After the header timeout (1 s here; 10 s by default) every slow connection is closed.
    let mut open = 0;
    for stream in &mut slow {
        if !closed_within(stream, Duration::from_secs(5)).await {
            open += 1;
        }
    }
    assert_eq!(open, 0, "{open} slow connections were still open");
    // A new connection: the shared client's pooled one has been idle past the server's
    // keep-alive timeout meanwhile, and reusing it races the server's close.
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    assert_eq!(fresh.get(format!("{}/healthz", app.url)).send().await.expect("healthz").status(), 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let app = slow_app().await;
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: aisha\r\n\r\n").await.expect("request");
    let mut buffer = [0u8; 1024];
    let n = stream.read(&mut buffer).await.expect("response");
    assert!(
        String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buffer[..n])
    );
    let idle = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await, "the idle connection stayed open");
    assert!(idle.elapsed() >= Duration::from_millis(800), "closed after {:?}, before the timeout", idle.elapsed());
}

#[tokio::test]
async fn a_body_that_stalls_or_trickles_is_cut_off_with_408() {
    let app = slow_app().await;
    let head =
        "POST /graphql HTTP/1.1\r\nHost: aisha\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n";
    for trickle in [false, true] {
        let mut stream = TcpStream::connect(app.addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("head");
        let (mut reader, mut writer) = stream.into_split();
        let sending = tokio::spawn(async move {
            if trickle {
                // 10 bytes every 100 ms: 100 B/s, under the floor of 1 KiB/s.
                for _ in 0..100 {
                    if writer.write_all(b"          ").await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            } else {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            drop(writer);
        });
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(4), reader.read(&mut answer))
            .await
            .expect("an answer in time")
            .expect("read");
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 408"), "trickle {trickle}: {text}");
        sending.abort();
    }
}
