//! Caps on open connections, overall and per client address (an IPv6 client per /64), taken at
//! accept time and given back when the connection closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::web::client::client_key;

/// How many connections may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionCaps {
    pub total: usize,
    pub per_address: usize,
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Full,
    AddressFull,
}

#[derive(Debug)]
pub struct Admission {
    caps: ConnectionCaps,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Held for as long as the connection is open.
#[derive(Debug)]
pub struct Admitted {
    admission: Arc<Admission>,
    key: IpAddr,
}

impl Admission {
    pub fn new(caps: ConnectionCaps) -> Arc<Self> {
        Arc::new(Admission {
            caps,
            open: Mutex::default(),
        })
    }

    pub fn caps(&self) -> ConnectionCaps {
        self.caps
    }

    /// Takes a place for a connection from `peer`, or says why there is none.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refused> {
        let key = client_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.caps.total {
            return Err(Refused::Full);
        }
        let from_address = open.by_address.entry(key).or_default();
        if *from_address >= self.caps.per_address {
            return Err(Refused::AddressFull);
        }
        *from_address += 1;
        open.total += 1;
        Ok(Admitted {
            admission: self.clone(),
            key,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map_or(0, |o| o.total)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .admission
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_hold_overall_and_per_address_and_places_come_back() {
        let admission = Admission::new(ConnectionCaps {
            total: 3,
            per_address: 2,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert_eq!(admission.admit(a).unwrap_err(), Refused::AddressFull);
        let _third = admission.admit(b).unwrap();
        assert_eq!(admission.admit(b).unwrap_err(), Refused::Full);
        drop(first);
        assert_eq!(admission.open(), 2);
        assert!(admission.admit(a).is_ok());
    }
}
