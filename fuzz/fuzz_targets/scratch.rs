//! Where the path-based fuzz targets write their inputs: a per-process name in memory-backed
//! /dev/shm when present (else the temp folder), because those readers open files by path.
//! Included by each such target with `#[path = "scratch.rs"] mod scratch;`.

use std::path::PathBuf;
use std::sync::OnceLock;

/// `onemap-fuzz-{pid}{suffix}` in the scratch folder; the same path for the whole run.
pub fn scratch_path(suffix: &str) -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("onemap-fuzz-{}{suffix}", std::process::id()))
    })
}
