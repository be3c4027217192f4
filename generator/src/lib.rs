//! Gatefold's generator.
