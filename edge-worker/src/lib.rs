//! Gatefold's edge worker (placeholder until the worker issue lands).
