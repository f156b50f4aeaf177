//! Plain domain data: layers, features and their attributes. Knows nothing of files or UI.

pub mod attributes;
pub mod incident;
pub mod layer;

pub use attributes::{AttributeTable, Value, ValueRef};
pub use incident::IncidentKind;
pub use layer::{Layer, LayerKind};
