//! Fuzzes the tolerant GeoJSON reader: any bytes must give layers or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = onemap::io::geojson_reader::read_geojson_bytes(Path::new("fuzz.geojson"), data);
});
