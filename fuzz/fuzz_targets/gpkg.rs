//! Fuzzes the GeoPackage reader (SQLite file, GP headers, WKB). The reader opens files by path, so each input is written to a per-process file in
//! memory-backed /dev/shm when present.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onemap::io::Progress;
use std::path::PathBuf;
use std::sync::OnceLock;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("onemap-fuzz-{}.gpkg", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path().clone();
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = onemap::io::gpkg_reader::read_geopackage(&path, &onemap::io::ReadOptions::default(), &Progress::default());
});
