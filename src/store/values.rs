//! How the result's value types sit in SQLite: a `Pct` or a `Score` as the `REAL` it is
//! written as in JSON (`59.9`), read back to the tenth it was.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::values::{Pct, Score};

impl ToSql for Pct {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_f64()))
    }
}

impl FromSql for Pct {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Pct> {
        Pct::from_number(f64::column_result(value)?).map_err(|e| FromSqlError::Other(e.into()))
    }
}

impl ToSql for Score {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_f64()))
    }
}

impl FromSql for Score {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Score> {
        Score::from_number(f64::column_result(value)?).map_err(|e| FromSqlError::Other(e.into()))
    }
}
