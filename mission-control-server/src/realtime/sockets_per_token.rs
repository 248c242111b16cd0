//! How many signed-in sockets one token may have at once (`MAX_SOCKETS_PER_TOKEN`): a token,
//! stolen or in a buggy loop, cannot open sockets without end, each costing the server its
//! buffers. A socket takes its place when it signs in (in the handshake or with
//! `authenticate`) and gives it back when it goes; past the cap it is refused, with
//! `connect_error` or `auth_error`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The places, by token id.
pub struct SocketsPerToken {
    per_token: usize,
    taken: Arc<Mutex<HashMap<String, usize>>>,
}

/// A signed-in socket's place under its token's cap, given back when dropped.
pub struct SocketPlace {
    taken: Arc<Mutex<HashMap<String, usize>>>,
    token_id: String,
}

fn lock(taken: &Mutex<HashMap<String, usize>>) -> MutexGuard<'_, HashMap<String, usize>> {
    taken.lock().unwrap_or_else(|e| e.into_inner())
}

impl SocketsPerToken {
    pub fn new(per_token: usize) -> Self {
        SocketsPerToken {
            per_token,
            taken: Arc::default(),
        }
    }

    /// A place for one more socket signed in with the token `token_id`, or why not.
    pub fn take(&self, token_id: &str) -> Result<Arc<SocketPlace>, String> {
        let mut taken = lock(&self.taken);
        let mine = taken.entry(token_id.to_owned()).or_default();
        if *mine >= self.per_token {
            return Err(format!(
                "this token has as many live sockets open as it may ({}); close one first",
                self.per_token
            ));
        }
        *mine += 1;
        Ok(Arc::new(SocketPlace {
            taken: self.taken.clone(),
            token_id: token_id.to_owned(),
        }))
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut taken = lock(&self.taken);
        if let Some(n) = taken.get_mut(&self.token_id) {
            *n -= 1;
            if *n == 0 {
                taken.remove(&self.token_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_so_many_places_and_gets_them_back() {
        let places = SocketsPerToken::new(2);
        let a = places.take("t").unwrap();
        let _b = places.take("t").unwrap();
        assert!(places.take("t").is_err());
        assert!(places.take("other").is_ok());
        drop(a);
        assert!(places.take("t").is_ok());
    }
}
