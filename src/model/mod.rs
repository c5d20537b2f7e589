//! The account snapshot (input), the result types (output), and the value types they share.
//! All of it is plain data with serde and JSON Schema derives: the tools' schemas are
//! generated from these types.

pub mod input;
pub mod json;
pub mod portfolio;
pub mod results;
pub mod snapshot;
pub mod values;

pub use input::{FieldError, InputError};
pub use snapshot::Snapshot;
pub use values::{Day, Money};
