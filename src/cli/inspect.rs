//! `onemap inspect` (placeholder).
use std::path::PathBuf;
/// Prints a summary per layer.
pub fn run_inspect(paths: &[PathBuf]) -> i32 {
    i32::from(paths.is_empty())
}
