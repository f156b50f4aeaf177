//! Fuzzes the GeoPackage reader (SQLite file, GP headers, WKB). The reader opens files by
//! path, so each input is written to a scratch file first.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use onemap::io::{Progress, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let path = scratch::scratch_path(".gpkg");
    if std::fs::write(path, data).is_err() {
        return;
    }
    let _ = onemap::io::gpkg_reader::read_geopackage(path, &ReadOptions::default(), &Progress::default());
});
