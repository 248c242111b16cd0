//! The tool host's tests, in one binary: the `mission_control` component under wasmtime against
//! the real server, one file per concept; `support` compiles the component once and starts the
//! server (from the testkit).

mod support;

mod actions;
mod doors;
mod errors;
mod work;
