//! Headless commands run from the command line (no window): `onemap inspect`.

/// `onemap inspect PATH...`.
pub mod inspect;

pub use inspect::run_inspect;
