//! Access log storage and analytics (the GalleryLog Durable Object). In progress.
