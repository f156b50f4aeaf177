//! Fuzzes the KML reader (and, when the bytes look like a zip, the KMZ path).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onemap::io::Progress;
use onemap::io::kml_reader::{KmlOptions, read_kml_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let options = KmlOptions {
        folders_as_layers: data.first().is_some_and(|b| b & 1 == 1),
        ..KmlOptions::default()
    };
    let _ = read_kml_bytes(Path::new("fuzz.kml"), data, &options, &Progress::default());
});
