//! Fuzzes the Shapefile reader. The input is split into .shp, .dbf and .prj parts (two
//! little-endian u16 lengths first), written to a per-process folder in memory-backed
//! /dev/shm when present, because the reader opens the sidecar files by path.
#![no_main]

#[path = "scratch.rs"]
mod scratch;

use libfuzzer_sys::fuzz_target;
use onemap::io::Progress;
use onemap::io::shapefile_reader::{ShapefileOptions, read_shapefile};
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch::scratch_path("-shp").clone();
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let shp_len = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let dbf_len = usize::from(u16::from_le_bytes([data[2], data[3]]));
    let rest = &data[4..];
    let shp_end = shp_len.min(rest.len());
    let dbf_end = (shp_end + dbf_len).min(rest.len());
    let dir = dir();
    let shp = dir.join("f.shp");
    let dbf = dir.join("f.dbf");
    let prj = dir.join("f.prj");
    let parts = [
        (&shp, &rest[..shp_end]),
        (&dbf, &rest[shp_end..dbf_end]),
        (&prj, &rest[dbf_end..]),
    ];
    for (path, bytes) in parts {
        if std::fs::write(path, bytes).is_err() {
            return;
        }
    }
    let _ = read_shapefile(&shp, &ShapefileOptions::default(), &Progress::default());
});
