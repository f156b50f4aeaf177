//! Fuzzes the Excel point-list reader (zip container, XML parts, every sheet through the
//! shared table core), straight from the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onemap::io::Progress;
use onemap::io::xlsx_reader::{XlsxOptions, read_xlsx_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = read_xlsx_bytes(Path::new("fuzz.xlsx"), data, &XlsxOptions::default(), &Progress::default());
});
