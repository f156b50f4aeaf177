//! Fuzzes the CSV point-list reader (delimiters, encodings, DMS, Gauss-Krüger detection).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onemap::io::Progress;
use onemap::io::csv_reader::{CsvOptions, read_csv_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let _ = read_csv_bytes(
        Path::new("fuzz.csv"),
        data,
        &CsvOptions::default(),
        &Progress::default(),
    );
});
