//! Cross-process delivery: a task created through process A, and the time until the last of
//! `n` Socket.io clients connected to process B has its `task.created`. B hears of the commit
//! through PostgreSQL's `NOTIFY` and reads the change log; the figure is that whole path.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::board::Board;
use crate::stats::Samples;
use crate::{Res, http, socket};

/// Latencies of one run: from A's answer, and from the request's start, to the last socket.
pub struct Delivery {
    pub after_answer: Samples,
    pub after_request: Samples,
    /// Events that did not arrive within 10 s.
    pub missing: usize,
}

/// `writes` tasks created one at a time through the board's first process, heard by `n`
/// sockets on its second.
pub async fn across(board: &Board, n: usize, writes: u32) -> Res<Delivery> {
    let (a, b) = match board.servers.as_slice() {
        [a, b, ..] => (a, b),
        _ => return Err("cross-process delivery needs two processes".into()),
    };
    let token = http::login(&a.base).await?;
    let addr = b.addr;
    let sockets: Vec<_> = futures_util::stream::iter(0..n)
        .map(|_| socket::connect(addr, &token))
        .buffer_unordered(32)
        .collect()
        .await;
    let sockets = sockets.into_iter().collect::<Result<Vec<_>, _>>()?;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let listeners: Vec<_> = sockets
        .into_iter()
        .map(|ws| socket::listen(ws, seen_tx.clone()))
        .collect();
    drop(seen_tx);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let writer = http::client()?;
    let auth = format!("Bearer {token}");
    writer
        .get(format!("{}/api/agents", a.base))
        .header("authorization", &auth)
        .send()
        .await?
        .bytes()
        .await?;
    let mut delivery = Delivery {
        after_answer: Samples::default(),
        after_request: Samples::default(),
        missing: 0,
    };
    for k in 0..writes {
        let (sent, answered) = socket::marked_write(&writer, &a.base, &auth, k).await?;
        let (got, last) = socket::arrivals(&mut seen, k, n).await;
        delivery.missing += n - got;
        if let Some(last) = last
            && got == n
        {
            delivery
                .after_answer
                .record(last.saturating_duration_since(answered));
            delivery.after_request.record(last - sent);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for l in listeners {
        l.abort();
    }
    Ok(delivery)
}
