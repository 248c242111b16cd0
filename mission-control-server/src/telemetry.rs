//! Logging through `tracing`: `RUST_LOG` picks the level (default `info`), `LOG_FORMAT` picks
//! human-readable or JSON lines. Logs go to stderr (coloured only on a terminal); stdout is kept
//! for what a person must read.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Targets quieter than the chosen level unless `RUST_LOG` names them: the MCP SDK logs every
/// JSON-RPC error it answers (an unknown method, a bad argument) as a warning, which would
/// let any client write to the server's log at will.
const QUIET_BY_DEFAULT: &[(&str, &str)] = &[("rmcp", "error")];

pub fn init(format: LogFormat) {
    let mut directives = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    for (target, level) in QUIET_BY_DEFAULT {
        if !directives.contains(target) {
            directives.push_str(&format!(",{target}={level}"));
        }
    }
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never into a file or a log collector.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    // A second init (tests calling twice) is harmless; ignore the error.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
