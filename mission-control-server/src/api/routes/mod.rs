//! The REST endpoints, one module per resource. Each handler parses its input, calls the core,
//! and wraps the result in the specification's envelope.

pub mod agents;
pub mod events;
pub mod export;
pub mod health;
pub mod people;
pub mod sign_in;
pub mod stream;
pub mod tasks;

use bytes::Bytes;

use crate::web::body::Body;
use crate::web::error::ApiError;

/// A request whose body has been read in full (at most 1 MiB) before its handler runs.
pub type Request = http::Request<Bytes>;
pub type Response = http::Response<Body>;
pub type Result = std::result::Result<Response, ApiError>;
