//! The `gatefold` commands' arguments (clap types) and how each runs: the library knows no
//! command line.

pub mod admin;
