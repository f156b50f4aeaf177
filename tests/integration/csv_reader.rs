//! CSV point lists: encodings, delimiters, column names, DMS and hemisphere letters,
//! Gauss-Krüger metres, swapped columns, bad rows and GCJ-02, on small fixtures.
#![allow(clippy::unwrap_used)]

use crate::support::points;
use std::path::Path;

use onemap::crs::Crs;
use onemap::io::csv_reader::{CsvInfo, CsvOptions, read_csv_bytes};
use onemap::io::{LoadError, Loaded, Progress};
use onemap::model::ValueRef;
use rand::{Rng, SeedableRng};

fn read(text: &[u8], options: &CsvOptions) -> Result<(Loaded, CsvInfo), LoadError> {
    read_csv_bytes(Path::new("points.csv"), text, options, &Progress::default())
}

fn assert_near(got: (f64, f64), want: (f64, f64), tolerance: f64) {
    assert!(
        (got.0 - want.0).abs() < tolerance && (got.1 - want.1).abs() < tolerance,
        "got {got:?}, want {want:?}"
    );
}

#[test]
fn chinese_headers_in_gbk_without_bom() {
    let text = "名称,经度,纬度,人数\n消防站一,117.87,36.80,12\n避难所,117.9,36.75,\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must not be UTF-8"
    );
    let (loaded, info) = read(&bytes, &CsvOptions::default()).unwrap();
    assert_eq!(info.encoding, "GB18030");
    assert_eq!((info.x_col.as_str(), info.y_col.as_str()), ("经度", "纬度"));
    assert_eq!(info.delimiter, ',');
    assert_eq!(info.crs, Crs::Wgs84);
    assert!(info.crs_reason.contains("GCJ-02"), "{}", info.crs_reason);
    assert!(loaded.warnings.iter().any(|w| w.message.contains("GCJ-02")));
    assert_eq!(points(&loaded), vec![(117.87, 36.80), (117.9, 36.75)]);
    let attributes = &loaded.layer.attributes;
    assert_eq!(attributes.get(0, "名称"), ValueRef::Text("消防站一"));
    assert_eq!(attributes.get(1, "名称"), ValueRef::Text("避难所"));
    assert_eq!(attributes.get(0, "人数"), ValueRef::Number(12.0));
    assert_eq!(attributes.get(1, "人数"), ValueRef::Null);
    assert!(
        attributes.get(0, "经度").is_null(),
        "coordinates are not attributes"
    );
}

#[test]
fn utf8_with_bom_and_bracketed_headers() {
    let text = "\u{FEFF}name,经度(E),纬度(N)\nA,117.87,36.8\n";
    let (loaded, info) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(info.encoding, "UTF-8 (BOM)");
    assert_eq!(info.x_col, "经度(E)");
    assert_eq!(loaded.layer.attributes.get(0, "name"), ValueRef::Text("A"));
    assert_eq!(points(&loaded), vec![(117.87, 36.8)]);
}

#[test]
fn dms_variants_and_hemisphere_letters() {
    let lon = 117.0 + 52.0 / 60.0 + 30.5 / 3600.0;
    let lat = 36.0 + 48.0 / 60.0;
    let text = "id;lon;lat\n\
                1;117°52'30.5\";36°48'0\"\n\
                2;117°52′30.5″;36°48′\n\
                3;117度52分30.5秒;36度48分\n\
                4;117:52:30.5;36:48:00\n\
                5;E117°52'30.5\";N36°48'\n\
                6;117.875E;36.8N\n\
                7;E117.875;N36.8\n";
    let (loaded, info) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(info.delimiter, ';');
    assert!(loaded.warnings.iter().all(|w| !w.message.contains("line")));
    let got = points(&loaded);
    assert_eq!(got.len(), 7);
    for p in &got[..5] {
        assert_near(*p, (lon, lat), 1e-12);
    }
    for p in &got[5..] {
        assert_near(*p, (117.875, 36.8), 1e-12);
    }
    let (loaded, _) = read(b"lon\tlat\nW70.5\tS33.4\n", &CsvOptions::default()).unwrap();
    assert_eq!(points(&loaded), vec![(-70.5, -33.4)]);
}

#[test]
fn tab_delimiter_and_letters_that_swap() {
    let (loaded, info) = read(
        "x\ty\tname\nN36.8\tE117.87\tA\n".as_bytes(),
        &CsvOptions::default(),
    )
    .unwrap();
    assert_eq!(info.delimiter, '\t');
    assert!(info.axis_swapped);
    assert_eq!(points(&loaded), vec![(117.87, 36.8)]);
    assert_eq!(loaded.layer.attributes.get(0, "name"), ValueRef::Text("A"));
}

#[test]
fn gauss_kruger_zone_39_metres() {
    let gk = Crs::from_epsg(4527).unwrap();
    let places = [(117.87, 36.80), (117.52, 36.61), (118.1, 37.02)];
    let mut text = String::from("名称,X,Y\n");
    for (i, &(lon, lat)) in places.iter().enumerate() {
        let (e, n) = gk.from_wgs84(lon, lat).unwrap();
        assert!(e > 39e6 && e < 40e6);
        text.push_str(&format!("p{i},{e:.4},{n:.4}\n"));
    }
    let (loaded, info) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(info.crs, gk, "{}", info.crs_reason);
    assert!(!info.axis_swapped);
    for (got, want) in points(&loaded).into_iter().zip(places) {
        assert_near(got, want, 1e-7);
    }
    assert_eq!(loaded.layer.len(), places.len());
}

#[test]
fn undecidable_central_meridian_is_an_error_unless_chosen() {
    let cm117 = Crs::from_epsg(4548).unwrap();
    let (e, n) = cm117.from_wgs84(117.87, 36.8).unwrap();
    let text = format!("x,y\n{e},{n}\n");
    match read(text.as_bytes(), &CsvOptions::default()) {
        Err(LoadError::Format { message, .. }) => {
            assert!(message.contains("central meridian"), "{message}");
            assert!(message.contains("4548"), "{message}");
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    let options = CsvOptions {
        crs: Some(cm117),
        ..CsvOptions::default()
    };
    let (loaded, info) = read(text.as_bytes(), &options).unwrap();
    assert_eq!(info.crs, cm117);
    assert_near(points(&loaded)[0], (117.87, 36.8), 1e-7);
}

#[test]
fn swapped_columns_detected_by_range() {
    let text = "lon,lat\n36.80,117.87\n36.75,117.9\n";
    let (loaded, info) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert!(info.axis_swapped);
    assert_eq!((info.x_col.as_str(), info.y_col.as_str()), ("lat", "lon"));
    assert_eq!(points(&loaded), vec![(117.87, 36.80), (117.9, 36.75)]);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("latitude"))
    );
}

#[test]
fn bad_rows_are_listed_by_line_and_the_rest_load() {
    let text = "name,lng,lat\n\
                ok1,117.87,36.80\n\
                empty,,36.8\n\
                words,abc,36.8\n\
                far,117.8,95\n\
                nan,NaN,36.8\n\
                ok2,117.9,36.75\n";
    let (loaded, _) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(points(&loaded), vec![(117.87, 36.80), (117.9, 36.75)]);
    assert_eq!(
        loaded.layer.attributes.get(1, "name"),
        ValueRef::Text("ok2")
    );
    assert_eq!(loaded.layer.source_index, vec![0, 5]);
    let lines: Vec<&str> = loaded
        .warnings
        .iter()
        .filter_map(|w| w.message.split(':').next())
        .filter(|m| m.starts_with("line "))
        .collect();
    assert_eq!(lines, vec!["line 3", "line 4", "line 5", "line 6"]);
}

#[test]
fn gcj02_option_shifts_about_500_m() {
    let text = b"lon,lat\n117.87,36.80\n";
    let (plain, _) = read(text, &CsvOptions::default()).unwrap();
    let options = CsvOptions {
        crs: Some(Crs::Gcj02),
        ..CsvOptions::default()
    };
    let (shifted, info) = read(text, &options).unwrap();
    assert_eq!(info.crs, Crs::Gcj02);
    assert!(
        shifted
            .warnings
            .iter()
            .all(|w| !w.message.contains("GCJ-02"))
    );
    let (a, b) = (points(&plain)[0], points(&shifted)[0]);
    let dx = (a.0 - b.0) * 111_320.0 * 36.8_f64.to_radians().cos();
    let dy = (a.1 - b.1) * 110_574.0;
    let metres = dx.hypot(dy);
    assert!((300.0..800.0).contains(&metres), "{metres} m");
}

#[test]
fn forced_choices_are_used() {
    let text = "a|b|c\n1|117.5|36.5\n";
    let options = CsvOptions {
        x_col: Some("B".into()),
        y_col: Some("c".into()),
        delimiter: Some(b'|'),
        encoding: Some("gbk".into()),
        crs: None,
    };
    let (loaded, info) = read(text.as_bytes(), &options).unwrap();
    assert_eq!(info.encoding, "GBK");
    assert_eq!(points(&loaded), vec![(117.5, 36.5)]);
    assert_eq!(loaded.layer.attributes.get(0, "a"), ValueRef::Number(1.0));
    let missing = CsvOptions {
        x_col: Some("zz".into()),
        ..CsvOptions::default()
    };
    assert!(read(text.as_bytes(), &missing).is_err());
}

#[test]
fn full_width_comma_delimiter() {
    let text = "名称，经度，纬度，备注\n一站，117.87，36.8，\"甲，乙\"\n";
    let (loaded, info) = read(text.as_bytes(), &CsvOptions::default()).unwrap();
    assert_eq!(info.delimiter, '，');
    assert_eq!(points(&loaded), vec![(117.87, 36.8)]);
    assert_eq!(
        loaded.layer.attributes.get(0, "名称"),
        ValueRef::Text("一站")
    );
    assert_eq!(
        loaded.layer.attributes.get(0, "备注"),
        ValueRef::Text("甲，乙")
    );
}

#[test]
fn load_path_reads_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("消防站.csv");
    std::fs::write(&path, "名称,经度,纬度\n一站,117.87,36.8\n").unwrap();
    let loaded = onemap::io::load_path(&path, &Progress::default()).unwrap();
    assert_eq!(loaded.layer.len(), 1);
    assert_eq!(loaded.layer.name, "消防站");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let alphabet: Vec<u8> = "0123456789.,;\t|\"'\n\r-°′″度分秒ENSWlonglat经度纬度 xy，"
        .bytes()
        .collect();
    for _ in 0..2000 {
        let len = rng.random_range(0..200);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.random_bool(0.8) {
                    alphabet[rng.random_range(0..alphabet.len())]
                } else {
                    rng.random()
                }
            })
            .collect();
        let mut with_header = b"lon,lat,name\n".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = read(&bytes, &CsvOptions::default());
        let _ = read(&with_header, &CsvOptions::default());
    }
}
