//! The connection layer, the bottom of the web toolkit: what every TCP connection goes through
//! before and while hyper serves it.
//!
//! - [`admission`]: caps on open connections, overall and per client address, checked at
//!   accept time, so that no client can take every descriptor.
//! - [`guarded`]: the stream hyper reads and writes. A connection that stops taking our bytes
//!   for [`guarded::WRITE_STALL_TIMEOUT`] is closed (a client that never reads pins no memory),
//!   a connection can be closed from elsewhere (a socket whose welcome ran out), and hyper's
//!   own bodyless error answers (400, 414, 431) get the API's JSON error body.
//! - [`descriptors`]: raises the process's open-file limit at start-up.
//! - [`serve`]: the accept loop, per-connection serving with deadlines, request logs and the
//!   graceful drain at shutdown.

pub mod admission;
pub mod descriptors;
pub mod guarded;
pub mod serve;
