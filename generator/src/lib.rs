//! Gatefold's generator: gallery folders in git → a deployable `dist/`.
//!
//! A build reads like a checklist (see [`build::build`]):
//! load and validate the YAML ([`config`]) → probe and process images in parallel
//! ([`images`]) → assemble the manifest the worker reads ([`gatefold_contract::manifest`]) →
//! render pages, QR codes and owner kits from the theme ([`render`], [`qr`]) → swap the new
//! `dist/` into place atomically.

pub mod admin;
pub mod build;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod images;
pub mod keys;
pub mod plan;
pub mod publish;
pub mod qr;
pub mod render;
