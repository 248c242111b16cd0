//! The event log behind the activity feed.

use super::MissionControl;
use crate::domain::Event;
use crate::error::Result;
use crate::store::{EventQuery, events};

impl MissionControl {
    /// The event log, newest first.
    pub async fn list_events(&self, query: EventQuery) -> Result<Vec<Event>> {
        self.read(move |conn| events::list(conn, query)).await
    }
}
