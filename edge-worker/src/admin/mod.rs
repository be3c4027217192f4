//! Admin API and admin page. In progress.
