//! Gatefold's edge worker (in progress).

pub mod admin;
pub mod analytics;
