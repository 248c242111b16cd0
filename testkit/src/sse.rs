//! A Server-Sent Events reader for `GET /api/stream`: opens the stream with a bearer token
//! (and optionally `Last-Event-ID`), and yields its events and comments as they arrive, parsed
//! as the SSE specification says (fields per line, a blank line ends an event, `:` starts a
//! comment).

use std::time::Duration;

use crate::Result;

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl Event {
    /// `data` as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }

    /// `id` as a seq.
    pub fn seq(&self) -> Option<i64> {
        self.id.as_deref()?.parse().ok()
    }
}

/// What a stream brings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event(Event),
    /// A comment line (`: keep-alive`), without the colon and the space.
    Comment(String),
}

pub struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts.
    read: usize,
    fields: Option<Event>,
}

impl EventStream {
    /// Opens `url` (`http://host/api/stream?...`); the status and the stream, or the error
    /// body as text when the status is not 200.
    pub async fn open(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Result<std::result::Result<EventStream, (u16, String)>> {
        let mut request = client
            .get(url)
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        if status != 200 {
            return Ok(Err((status, response.text().await.unwrap_or_default())));
        }
        Ok(Ok(EventStream {
            response,
            buffer: Vec::new(),
            read: 0,
            fields: None,
        }))
    }

    /// The next event or comment; `None` once the server has ended the stream.
    pub async fn next(&mut self) -> Option<Item> {
        loop {
            let unread = &self.buffer[self.read..];
            if let Some(end) = unread.iter().position(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(&unread[..end]).into_owned();
                self.read += end + 1;
                if let Some(item) = self.line(line.trim_end_matches('\r')) {
                    return Some(item);
                }
                continue;
            }
            // Everything before `read` is consumed: drop it once per chunk, not once per line.
            self.buffer.drain(..self.read);
            self.read = 0;
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.buffer.extend_from_slice(&bytes),
                _ => return None,
            }
        }
    }

    /// The next event or comment within `wait`; `None` on timeout or at the end.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Item> {
        tokio::time::timeout(wait, self.next()).await.ok().flatten()
    }

    /// The next event, skipping comments, within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.next())
                .await
                .ok()
                .flatten()?
            {
                Item::Event(event) => return Some(event),
                Item::Comment(_) => {}
            }
        }
    }

    fn line(&mut self, line: &str) -> Option<Item> {
        if line.is_empty() {
            return self
                .fields
                .take()
                .filter(|e| !e.data.is_empty() || !e.event.is_empty())
                .map(Item::Event);
        }
        if let Some(comment) = line.strip_prefix(':') {
            return Some(Item::Comment(comment.trim_start().to_owned()));
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        let event = self.fields.get_or_insert_with(|| Event {
            id: None,
            event: String::new(),
            data: String::new(),
        });
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = value.to_owned(),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            _ => {}
        }
        None
    }
}
