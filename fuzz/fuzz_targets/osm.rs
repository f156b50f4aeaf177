//! Fuzzes the OpenStreetMap PBF reader. The reader opens files by path, so each input is
//! written to a scratch file first.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use onemap::io::{Progress, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let path = scratch::scratch_path(".osm.pbf");
    if std::fs::write(path, data).is_err() {
        return;
    }
    let _ = onemap::io::osm_reader::read_osm_pbf(path, &ReadOptions::default(), &Progress::default());
});
