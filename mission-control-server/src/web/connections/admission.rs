//! Caps on open connections, overall and per client address (an IPv6 client per /64), taken at
//! accept time and given back when the connection closes. A trusted proxy (`TRUSTED_PROXIES`)
//! carries every client's connections, so it counts against the overall cap only; the limits
//! that follow, per request, see the client it forwards for (see `web::client`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::web::client::{TrustedProxies, client_key};

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
    proxies: TrustedProxies,
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
    pub fn new(caps: ConnectionCaps, proxies: TrustedProxies) -> Arc<Self> {
        Arc::new(Admission {
            caps,
            proxies,
            open: Mutex::default(),
        })
    }

    /// The proxies whose forwarding headers say who the client is.
    pub fn proxies(&self) -> &TrustedProxies {
        &self.proxies
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
        if !self.proxies.trusts(peer) {
            let from_address = open.by_address.entry(key).or_default();
            if *from_address >= self.caps.per_address {
                return Err(Refused::AddressFull);
            }
            *from_address += 1;
        }
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

impl Admitted {
    /// Who the client of a request on this connection is (see [`TrustedProxies::client`]).
    pub fn client(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        self.admission.proxies.client(peer, headers)
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
        let admission = Admission::new(
            ConnectionCaps {
                total: 3,
                per_address: 2,
            },
            TrustedProxies::default(),
        );
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

    #[test]
    fn a_trusted_proxy_counts_against_the_total_only() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let admission = Admission::new(
            ConnectionCaps {
                total: 3,
                per_address: 1,
            },
            TrustedProxies::new(vec!["10.0.0.5/32".parse().unwrap()]),
        );
        let held: Vec<_> = (0..3).map(|_| admission.admit(proxy).unwrap()).collect();
        assert_eq!(admission.admit(proxy).unwrap_err(), Refused::Full);
        drop(held);
        assert_eq!(admission.open(), 0);
    }
}
