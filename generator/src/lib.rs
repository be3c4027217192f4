//! Gatefold's generator: gallery folders in git → a deployable `dist/`.
//!
//! A build reads like a checklist (see [`build::build`]), one model per stage:
//! load and validate the YAML ([`config`]: a [`config::Project`]) → plan (and encode) images in
//! parallel ([`images`]) → assemble the built site ([`model`]: a [`model::SiteModel`]) → render
//! page templates, QR codes and owner kits from the theme ([`render`], QR codes from
//! [`gatefold_contract::qr`]) and write the records the worker reads and the full manifest
//! ([`gatefold_contract::manifest`]) from the built site → swap the new `dist/` into place
//! atomically.
//!
//! The command line is not part of the library: the `gatefold` binary (`src/main.rs`, and
//! `src/cmd/`, one file per command with its clap arguments) parses the arguments and calls the
//! functions below, which take plain options and report through a [`progress::Progress`].
//!
//! Modules, each importing only modules listed before it:
//! - [`diagnostics`]: problems reported to owners with file, line, field and fix;
//! - [`images`]: image checks, and the build's image step (plan, then encode) with its cache
//!   and its settings (`site.yaml`'s `images:` and their defaults);
//! - [`config`]: `site.yaml`, `gallery.yaml` and the images they list, checked all at once;
//! - [`model`]: the generator's model of a built site, from which the manifest is written;
//! - [`render`]: gallery, preview and denial pages, and the owner kit, from the theme;
//! - [`keys`]: the signing key (production from the environment, development from `.dev.vars`);
//! - [`admin`]: the admin API's client and the admin commands' text, against a running worker;
//! - [`progress`]: what a long command reports as it goes (the binary draws it);
//! - [`build`]: the build itself, into a staging directory swapped into `dist/`;
//! - [`plan`]: `gatefold plan`, what publishing would change for the people holding links;
//! - [`publish`]: `gatefold publish` (originals to R2, deploy) and the smoke test;
//! - [`trace`]: `gatefold trace`, the image and the link a leaked file came from.

pub mod admin;
pub mod build;
pub mod config;
pub mod diagnostics;
pub mod images;
pub mod keys;
pub mod model;
pub mod plan;
pub mod progress;
pub mod publish;
pub mod render;
pub mod trace;
