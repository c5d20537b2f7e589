//! The PostgreSQL store (placeholder until the backend lands).

use super::{Sqlite, StoreError};

/// Whether `--db` names a PostgreSQL server rather than a file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The PostgreSQL store.
pub struct Postgres;

impl Postgres {
    pub fn open(url: &str) -> Result<Sqlite, StoreError> {
        let _ = url;
        Err(StoreError::Io("PostgreSQL is not supported yet".into()))
    }
}
