//! Excel point lists: Chinese headers under a title row, numeric and DMS cells, Gauss-Krüger
//! metres, typed attributes, bad and error cells listed by Excel row, sheet choice, empty and
//! broken workbooks, and seeded random mutations; fixtures are made with rust_xlsxwriter.
#![allow(clippy::unwrap_used)]

use crate::support::points;
use std::path::Path;

use onemap::crs::Crs;
use onemap::io::xlsx_reader::{XlsxInfo, XlsxOptions, read_xlsx_bytes};
use onemap::io::{LoadError, Loaded, Progress, ReadOptions, read_path};
use onemap::model::ValueRef;
use rand::{Rng, SeedableRng};
use rust_xlsxwriter::Workbook;

fn read(bytes: &[u8], options: &XlsxOptions) -> Result<(Loaded, XlsxInfo), LoadError> {
    read_xlsx_bytes(
        Path::new("points.xlsx"),
        bytes,
        options,
        &Progress::default(),
    )
}

/// A workbook like a bureau's: a title row, then 名称/经度/纬度/人数/编码, numeric and DMS
/// coordinates, a bad row and an error cell; plus a second sheet in Gauss-Krüger metres.
fn bureau_workbook() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("消防站").unwrap();
    sheet.write_string(0, 0, "某区消防站一览表").unwrap();
    for (col, header) in ["名称", "经度", "纬度", "人数", "编码", "启用"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, col as u16, *header).unwrap();
    }
    // Excel row 4: numbers.
    sheet.write_string(3, 0, "一中队").unwrap();
    sheet.write_number(3, 1, 117.87).unwrap();
    sheet.write_number(3, 2, 36.8).unwrap();
    sheet.write_number(3, 3, 45).unwrap();
    sheet.write_string(3, 4, "0531").unwrap();
    sheet.write_boolean(3, 5, true).unwrap();
    // Excel row 5: DMS text.
    sheet.write_string(4, 0, "二中队").unwrap();
    sheet.write_string(4, 1, "117°52'30.5\"").unwrap();
    sheet.write_string(4, 2, "36度48分").unwrap();
    // Excel row 6: not a coordinate.
    sheet.write_string(5, 0, "坏行").unwrap();
    sheet.write_string(5, 1, "abc").unwrap();
    sheet.write_number(5, 2, 36.7).unwrap();
    // Excel row 7: NaN-ish text.
    sheet.write_string(6, 0, "NaN行").unwrap();
    sheet.write_string(6, 1, "NaN").unwrap();
    sheet.write_number(6, 2, 36.7).unwrap();
    // Excel row 8: an error formula (#DIV/0!).
    sheet.write_string(7, 0, "错误").unwrap();
    sheet.write_formula(7, 1, "=1/0").unwrap();
    sheet.set_formula_result(7, 1, "#DIV/0!");
    sheet.write_number(7, 2, 36.7).unwrap();
    // Excel row 9 blank, row 10: E/N letters.
    sheet.write_string(9, 0, "三中队").unwrap();
    sheet.write_string(9, 1, "E117.875").unwrap();
    sheet.write_string(9, 2, "N36.75").unwrap();

    let gk = workbook.add_worksheet();
    gk.set_name("大地坐标").unwrap();
    gk.write_string(0, 0, "名称").unwrap();
    gk.write_string(0, 1, "东坐标").unwrap();
    gk.write_string(0, 2, "北坐标").unwrap();
    let crs = Crs::from_epsg(4527).unwrap();
    for (row, (lon, lat)) in [(117.9, 36.8), (117.95, 36.85)].iter().enumerate() {
        let (easting, northing) = crs.from_wgs84(*lon, *lat).unwrap();
        gk.write_string(row as u32 + 1, 0, format!("点{row}"))
            .unwrap();
        gk.write_number(row as u32 + 1, 1, easting).unwrap();
        gk.write_number(row as u32 + 1, 2, northing).unwrap();
    }
    workbook.add_worksheet().set_name("空").unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn chinese_headers_numbers_dms_and_bad_rows() {
    let bytes = bureau_workbook();
    let (loaded, info) = read(&bytes, &XlsxOptions::default()).unwrap();
    assert_eq!(info.sheet, "消防站");
    assert_eq!(info.header_row, 3);
    assert_eq!((info.x_col.as_str(), info.y_col.as_str()), ("经度", "纬度"));
    assert_eq!(info.crs, Crs::Wgs84);
    assert!(info.crs_reason.contains("GCJ-02"), "{}", info.crs_reason);
    let got = points(&loaded);
    let dms_lon = 117.0 + 52.0 / 60.0 + 30.5 / 3600.0;
    let expected = [(117.87, 36.8), (dms_lon, 36.8), (117.875, 36.75)];
    assert_eq!(got.len(), expected.len(), "{:?}", loaded.warnings);
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            (g.0 - e.0).abs() < 1e-12 && (g.1 - e.1).abs() < 1e-12,
            "{g:?} {e:?}"
        );
    }
    let t = &loaded.layer.attributes;
    assert_eq!(t.get(0, "名称"), ValueRef::Text("一中队"));
    assert_eq!(
        t.get(0, "人数"),
        ValueRef::Number(45.0),
        "numeric cells stay numbers"
    );
    assert_eq!(
        t.get(0, "编码"),
        ValueRef::Text("0531"),
        "text cells stay text"
    );
    assert_eq!(t.get(0, "启用"), ValueRef::Bool(true));
    assert!(t.get(1, "人数").is_null());
    assert!(t.get(0, "经度").is_null(), "coordinates are not attributes");

    let messages: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let row_warning = |row: u32| {
        messages
            .iter()
            .find(|m| m.contains(&format!("row {row}:")))
            .unwrap_or_else(|| panic!("no warning for row {row}: {messages:#?}"))
    };
    assert!(row_warning(6).contains("'abc'"));
    assert!(row_warning(7).contains("'NaN'"));
    assert!(row_warning(8).contains("经度"));
    assert!(
        messages.iter().all(|m| !m.contains("row 9:")),
        "blank rows are not errors"
    );
    assert!(messages.iter().all(|m| m.starts_with("points.xlsx")));
    assert!(messages.iter().any(|m| m.contains("3 sheets")));
}

#[test]
fn gauss_kruger_sheet_by_name() {
    let bytes = bureau_workbook();
    let options = XlsxOptions {
        sheet: Some("大地坐标".to_owned()),
        ..XlsxOptions::default()
    };
    let (loaded, info) = read(&bytes, &options).unwrap();
    assert_eq!(
        info.crs,
        Crs::from_epsg(4527).unwrap(),
        "{}",
        info.crs_reason
    );
    let got = points(&loaded);
    for (g, e) in got.iter().zip([(117.9, 36.8), (117.95, 36.85)]) {
        assert!(
            (g.0 - e.0).abs() < 1e-8 && (g.1 - e.1).abs() < 1e-8,
            "{g:?} {e:?}"
        );
    }
    let missing = XlsxOptions {
        sheet: Some("nope".to_owned()),
        ..XlsxOptions::default()
    };
    let message = read(&bytes, &missing).unwrap_err().to_string();
    assert!(
        message.contains("nope") && message.contains("大地坐标"),
        "{message}"
    );
}

#[test]
fn forced_columns_and_crs() {
    let bytes = bureau_workbook();
    let options = XlsxOptions {
        crs: Some(Crs::Gcj02),
        x_col: Some("经度".to_owned()),
        y_col: Some("纬度".to_owned()),
        ..XlsxOptions::default()
    };
    let (loaded, info) = read(&bytes, &options).unwrap();
    assert_eq!(info.crs, Crs::Gcj02);
    let expected = onemap::crs::gcj02::gcj02_to_wgs84(117.87, 36.8);
    let first = points(&loaded)[0];
    assert!((first.0 - expected.0).abs() < 1e-9 && (first.1 - expected.1).abs() < 1e-9);
}

#[test]
fn empty_sheets_and_broken_files_are_named_errors() {
    let bytes = bureau_workbook();
    let empty = XlsxOptions {
        sheet: Some("空".to_owned()),
        ..XlsxOptions::default()
    };
    let message = read(&bytes, &empty).unwrap_err().to_string();
    assert!(
        message.contains("points.xlsx") && message.contains("empty"),
        "{message}"
    );

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "名称").unwrap();
    sheet.write_string(0, 1, "备注").unwrap();
    sheet.write_string(1, 0, "x").unwrap();
    let no_columns = workbook.save_to_buffer().unwrap();
    let message = read(&no_columns, &XlsxOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("no longitude/x column"), "{message}");

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let garbage: Vec<u8> = (0..2048).map(|_| rng.random()).collect();
    for bad in [
        &garbage[..],
        b"",
        b"PK\x03\x04 not a zip",
        &bytes[..bytes.len() / 2],
    ] {
        let message = read(bad, &XlsxOptions::default()).unwrap_err().to_string();
        assert!(message.starts_with("points.xlsx"), "{message}");
    }
}

#[test]
fn a_cover_sheet_is_passed_over_for_the_first_sheet_with_coordinates() {
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("说明").unwrap();
    notes
        .write_string(0, 0, "填表说明：坐标取自高德地图")
        .unwrap();
    let stock = workbook.add_worksheet();
    stock.set_name("储备点").unwrap();
    stock.write_string(0, 0, "名称").unwrap();
    stock.write_string(0, 1, "经度").unwrap();
    stock.write_string(0, 2, "纬度").unwrap();
    stock.write_string(1, 0, "储备库").unwrap();
    stock.write_number(1, 1, 117.87).unwrap();
    stock.write_number(1, 2, 36.80).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let (loaded, info) = read(&bytes, &XlsxOptions::default()).unwrap();
    assert_eq!(info.sheet, "储备点");
    assert_eq!(points(&loaded), vec![(117.87, 36.80)]);
    let first = loaded.warnings[0].to_string();
    assert!(
        first.contains("read '储备点'") && first.contains("说明 before it has none"),
        "{first}"
    );
    // Asked for by name, the cover sheet is an error, not a silent switch.
    let notes_only = XlsxOptions {
        sheet: Some("说明".to_owned()),
        ..XlsxOptions::default()
    };
    assert!(read(&bytes, &notes_only).is_err());

    // No sheet with coordinates: one error naming every sheet and the first one's problem.
    let mut workbook = Workbook::new();
    workbook.add_worksheet().set_name("甲").unwrap();
    let b = workbook.add_worksheet();
    b.set_name("乙").unwrap();
    b.write_string(0, 0, "名称").unwrap();
    let none = workbook.save_to_buffer().unwrap();
    let message = read(&none, &XlsxOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("no sheet of 2 (甲, 乙)") && message.contains("empty"),
        "{message}"
    );
}

#[test]
fn read_path_dispatches_excel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("消防站.xlsx");
    std::fs::write(&path, bureau_workbook()).unwrap();
    let result = read_path(&path, &ReadOptions::default(), &Progress::default()).unwrap();
    assert_eq!(result.info.format, "Excel");
    assert_eq!(result.info.crs, Some(Crs::Wgs84));
    assert!(result.info.crs_reason.contains("GCJ-02"));
    assert_eq!(result.layers[0].layer.geometries.len(), 3);
    assert_eq!(
        result.layers[0].layer.kind,
        onemap::model::LayerKind::FireStation
    );
    assert_eq!(result.info.sheet.as_deref(), Some("消防站"));
    assert_eq!(result.info.sheets.len(), 3);
    // Another sheet, chosen by name through the options every reader takes.
    let other = ReadOptions {
        sheet: Some("大地坐标".to_owned()),
        ..ReadOptions::default()
    };
    let result = read_path(&path, &other, &Progress::default()).unwrap();
    assert_eq!(result.info.sheet.as_deref(), Some("大地坐标"));
    assert_eq!(result.info.crs, Crs::from_epsg(4527).ok());
    assert_eq!(result.layers[0].layer.geometries.len(), 2);
}

/// Rewrites a workbook with its sheet and shared-string XML mutated, so that the mutations
/// reach the XML parsers instead of stopping at the zip checksums.
fn mutate_inside(base: &[u8], rng: &mut rand_chacha::ChaCha8Rng) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(base)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if (name.contains("worksheets/") || name.contains("sharedStrings")) && !data.is_empty() {
            for _ in 0..rng.random_range(1..5) {
                let at = rng.random_range(0..data.len());
                match rng.random_range(0..4) {
                    0 => {
                        let pool = b"<>\"&;0-9.eE";
                        data[at] = pool[rng.random_range(0..pool.len())];
                    }
                    1 => {
                        let end = (at + rng.random_range(1..30)).min(data.len());
                        data.drain(at..end);
                    }
                    2 => data.truncate(at),
                    _ => data.splice(at..at, b"NaN".iter().copied()).for_each(drop),
                }
                if data.is_empty() {
                    break;
                }
            }
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Seeded random mutations of a valid workbook (its bytes, and the XML inside it) never panic.
#[test]
fn random_mutations_never_panic() {
    let base = bureau_workbook();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let mut read_ok = 0;
    for round in 0..600 {
        if round % 2 == 0 {
            let bytes = mutate_inside(&base, &mut rng);
            if let Ok((loaded, _)) = read(&bytes, &XlsxOptions::default()) {
                assert_eq!(loaded.layer.geometries.len(), loaded.layer.attributes.len());
                read_ok += 1;
            }
            continue;
        }
        let mut bytes = base.clone();
        for _ in 0..rng.random_range(1..8) {
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[at] = rng.random(),
                1 => {
                    let end = (at + rng.random_range(1..64)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => bytes.insert(at, rng.random()),
            }
            if bytes.is_empty() {
                break;
            }
        }
        if let Ok((loaded, _)) = read(&bytes, &XlsxOptions::default()) {
            assert_eq!(loaded.layer.geometries.len(), loaded.layer.attributes.len());
        }
    }
    assert!(
        read_ok > 10,
        "the inner mutations should often still load ({read_ok})"
    );
}
