//! Integration tests: the real server on a free port, driven over HTTP.
#![allow(clippy::unwrap_used)]

mod completions;
mod faults;
mod helpers;
mod load;
mod sim;
