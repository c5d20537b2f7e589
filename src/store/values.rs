//! How the result's value types sit in the stores: a `Pct` or a `Score` as the `REAL` (SQLite) or
//! `double precision` (PostgreSQL) it is written as in JSON (`59.9`), read back to the tenth it was.

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

/// The same on PostgreSQL: a `double precision` column, read back to the tenth it was.
mod postgres_types {
    use std::error::Error;

    use postgres::types::{FromSql, IsNull, ToSql, Type, accepts, to_sql_checked};

    use crate::model::values::{Pct, Score};

    type BoxError = Box<dyn Error + Sync + Send>;

    macro_rules! float8_tenths {
        ($t:ty) => {
            impl ToSql for $t {
                fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
                    self.as_f64().to_sql(ty, out)
                }
                accepts!(FLOAT8);
                to_sql_checked!();
            }

            impl<'a> FromSql<'a> for $t {
                fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<$t, BoxError> {
                    <$t>::from_number(f64::from_sql(ty, raw)?).map_err(BoxError::from)
                }
                accepts!(FLOAT8);
            }
        };
    }

    float8_tenths!(Pct);
    float8_tenths!(Score);
}
