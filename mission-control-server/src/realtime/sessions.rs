//! Every signed-in socket's [`Session`], by socket id: what the relay walks to deliver a
//! batch (one map, no per-socket lookups), and what the watch and sign-out walk.
//!
//! The relay holds the read lock while it offers a batch and moves the feed's position;
//! sign-in takes the write lock to read that position and insert the session, so a socket
//! signing in mid-batch starts exactly after the batch, or receives all of it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use socketioxide::socket::Sid;

use super::session::Session;

#[derive(Default)]
pub struct Sessions {
    map: RwLock<HashMap<Sid, Arc<Session>>>,
}

impl Sessions {
    pub fn read(&self) -> RwLockReadGuard<'_, HashMap<Sid, Arc<Session>>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, HashMap<Sid, Arc<Session>>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, sid: Sid) -> Option<Arc<Session>> {
        self.read().get(&sid).cloned()
    }

    /// Forgets a socket's session, and takes it out of the rooms the relay sends to.
    pub fn remove(&self, sid: Sid) -> Option<Arc<Session>> {
        let session = self.write().remove(&sid);
        if let Some(session) = &session {
            session.socket.leave_all();
        }
        session
    }

    /// A copy of the list, to walk without holding the lock.
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.read().values().cloned().collect()
    }
}
