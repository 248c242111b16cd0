//! The REST endpoints, one module per resource. Each handler parses its input, calls the core,
//! and wraps the result in the specification's envelope.

pub mod agents;
pub mod auth;
pub mod events;
pub mod health;
pub mod tasks;

use hyper::body::Incoming;

use super::body::Body;
use super::error::ApiError;

pub type Request = http::Request<Incoming>;
pub type Response = http::Response<Body>;
pub type Result = std::result::Result<Response, ApiError>;
