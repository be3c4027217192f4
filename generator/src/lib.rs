//! Gatefold's generator: gallery folders in git → a deployable `dist/`.
//!
//! A build reads like a checklist (see [`build::build`]), one model per stage:
//! load and validate the YAML ([`config`]: a [`config::Project`]) → plan (and encode) images in
//! parallel ([`images`]) → assemble the built site ([`built`]: a [`built::BuiltSite`]) → render
//! page templates, QR codes and owner kits from the theme ([`render`], QR codes from
//! [`gatefold_contract::qr`]) and write the records the worker reads and the full manifest
//! ([`gatefold_contract::manifest`]) from the built site → swap the new `dist/` into place
//! atomically.
//!
//! Modules:
//! - [`cli`]: the `gatefold` command line (argument groups, progress, `check`/`build`/`links`);
//! - [`config`]: `site.yaml`, `gallery.yaml` and the images they list, checked all at once;
//! - [`diagnostics`]: problems reported to owners with file, line, field and fix;
//! - [`images`]: image checks, and the build's image step (plan, then encode) with its cache;
//! - [`built`]: the generator's model of a built site, from which the manifest is written;
//! - [`build`]: the build itself, into a staging directory swapped into `dist/`;
//! - [`render`]: gallery, preview and denial pages, and the owner kit, from the theme;
//! - [`keys`]: the signing key (production from the environment, development from `.dev.vars`);
//! - [`plan`]: `gatefold plan`, what publishing would change for the people holding links;
//! - [`publish`]: `gatefold publish` (originals to R2, deploy) and the smoke test;
//! - [`admin`]: the admin API's client and the admin commands' text, against a running worker;
//! - [`cmd`]: the commands' arguments (clap types) and how each runs (`cmd::admin`).

pub mod admin;
pub mod build;
pub mod built;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod diagnostics;
pub mod images;
pub mod keys;
pub mod plan;
pub mod publish;
/// Scanner checks of the contract's QR codes (zbar, libvips).
#[cfg(test)]
mod qr;
pub mod render;
