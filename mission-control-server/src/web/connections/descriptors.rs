//! The open-file limit. Every connection is a descriptor; a soft limit of 1,024 (the usual
//! default) would let a thousand idle connections lock everyone else out, so start-up raises
//! the soft limit to the hard limit, and the connection caps are set below what it allows.

/// Descriptors kept back for the database, its WAL, logs and the listener.
pub const RESERVED: u64 = 64;

/// Raises the soft limit on open files as far as the hard limit allows; the limit in force.
pub fn raise_open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}
