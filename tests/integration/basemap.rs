//! Basemaps: tile folder source, URL templates, settings persistence, problems reported
//! instead of panics, HTTP fetching and failure detection against a local mock server, and
//! the switcher panel.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use onemap::i18n::Lang;
use onemap::map::basemap::{
    BasemapChoice, BasemapProblem, BasemapSettings, Basemaps, TemplateError, UrlTemplate, XyzEntry,
    tianditu_template,
};
use onemap::map::tile_folder::{TileFolder, TileFolderError};
use walkers::{Tile, TileId, Tiles};

fn png_bytes(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(width, height, image::Rgb(rgb));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

fn write_tile(root: &Path, z: u8, x: u32, y: u32, ext: &str, bytes: &[u8]) {
    let dir = root.join(z.to_string()).join(x.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{y}.{ext}")), bytes).unwrap();
}

fn tile(zoom: u8, x: u32, y: u32) -> TileId {
    TileId { x, y, zoom }
}

/// Asks until `at` returns something passing `accept`, or gives up after `timeout`.
fn poll_until(
    tiles: &mut dyn Tiles,
    tile_id: TileId,
    timeout: Duration,
    accept: impl Fn(&walkers::TilePiece) -> bool,
) -> Option<walkers::TilePiece> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(piece) = tiles.at(tile_id)
            && accept(&piece)
        {
            return Some(piece);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn full(piece: &walkers::TilePiece) -> bool {
    (piece.uv.width() - 1.0).abs() < 1e-6
}

fn texture_size(piece: &walkers::TilePiece) -> [usize; 2] {
    match &piece.tile {
        Tile::Raster(texture) => texture.size(),
    }
}

#[test]
fn tile_folder_loads_tiles_falls_back_to_ancestors_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_tile(root, 0, 0, 0, "png", &png_bytes(256, 256, [200, 0, 0]));
    write_tile(root, 1, 1, 1, "png", &png_bytes(16, 16, [0, 200, 0]));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3])))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    write_tile(root, 1, 0, 1, "jpg", &jpeg);
    write_tile(root, 1, 1, 0, "png", b"definitely not a png");

    let ctx = egui::Context::default();
    let mut folder = TileFolder::open(root, &ctx).unwrap();
    assert_eq!(folder.zoom_range(), (0, 1));
    let wait = Duration::from_secs(5);

    let world = poll_until(&mut folder, tile(0, 0, 0), wait, full).expect("z0 tile loads");
    assert_eq!(texture_size(&world), [256, 256]);
    let green = poll_until(&mut folder, tile(1, 1, 1), wait, full).expect("z1 png loads");
    assert_eq!(texture_size(&green), [16, 16]);
    let jpg = poll_until(&mut folder, tile(1, 0, 1), wait, full).expect("z1 jpg loads");
    assert_eq!(texture_size(&jpg), [8, 8]);

    // (1, 0, 0) has no file: the z0 tile's top-left quarter stands in for it.
    let stand_in = poll_until(&mut folder, tile(1, 0, 0), wait, |_| true).unwrap();
    assert_eq!(
        stand_in.uv,
        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(0.5, 0.5))
    );
    assert_eq!(folder.failed_count(), 0, "a missing file is not a failure");

    // Deeper than the folder goes: a piece of the deepest ancestor, here (1,1,1).
    let deep = poll_until(&mut folder, tile(3, 7, 6), wait, |_| true).unwrap();
    assert_eq!(texture_size(&deep), [16, 16]);
    assert!((deep.uv.width() - 0.25).abs() < 1e-6);
    assert!((deep.uv.min.x - 0.75).abs() < 1e-6 && (deep.uv.min.y - 0.5).abs() < 1e-6);

    // The garbage file counts as a failure and names itself.
    let start = Instant::now();
    while folder.failed_count() == 0 && start.elapsed() < wait {
        folder.at(tile(1, 1, 0));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(folder.failed_count(), 1);
    assert!(folder.last_error().unwrap().contains("0.png"));

    // Outside the world, or above the folder's shallowest level: nothing, and no panic.
    assert!(folder.at(tile(1, 5, 0)).is_none());
    assert!(folder.at(tile(30, 0, 0)).is_none());
}

#[test]
fn tile_folder_rejects_non_folders() {
    let ctx = egui::Context::default();
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        TileFolder::open(dir.path(), &ctx),
        Err(TileFolderError::NoZoomLevels(_))
    ));
    let file = dir.path().join("x.txt");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(
        TileFolder::open(&file, &ctx),
        Err(TileFolderError::NotAFolder(_))
    ));
}

fn query_value<'a>(url: &'a str, key: &str) -> &'a str {
    url.split(['?', '&'])
        .find_map(|pair| {
            pair.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
        })
        .unwrap()
}

#[test]
fn tianditu_urls_put_zoom_row_and_column_in_place_and_spread_over_t0_to_t7() {
    let template = UrlTemplate::parse(&tianditu_template("vec", "abc123")).unwrap();
    let url = template.url(tile(12, 3375, 1560));
    assert_eq!(query_value(&url, "TILEMATRIX"), "12");
    assert_eq!(query_value(&url, "TILEROW"), "1560");
    assert_eq!(query_value(&url, "TILECOL"), "3375");
    assert_eq!(query_value(&url, "LAYER"), "vec");
    assert_eq!(query_value(&url, "TILEMATRIXSET"), "w");
    assert_eq!(query_value(&url, "tk"), "abc123");
    assert!(url.contains(".tianditu.gov.cn/vec_w/wmts?"), "{url}");

    let mut hosts = std::collections::BTreeSet::new();
    for x in 0..16 {
        let url = template.url(tile(5, x, 7));
        let host = url
            .trim_start_matches("http://")
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            host.len() == 2
                && host.starts_with('t')
                && ('0'..='7').contains(&host.chars().nth(1).unwrap()),
            "{host}"
        );
        hosts.insert(host);
    }
    assert_eq!(hosts.len(), 8);
    // The same tile always goes to the same host, so the HTTP cache hits.
    assert_eq!(template.url(tile(5, 3, 7)), template.url(tile(5, 3, 7)));
}

#[test]
fn xyz_templates_expand_and_bad_ones_are_named() {
    let osm_like = UrlTemplate::parse("https://{s}.tile.example.org/{z}/{x}/{y}.png").unwrap();
    let url = osm_like.url(tile(4, 5, 6));
    assert!(url.ends_with(".tile.example.org/4/5/6.png"), "{url}");
    assert!(
        ["https://a.", "https://b.", "https://c."]
            .iter()
            .any(|p| url.starts_with(p))
    );

    let tms = UrlTemplate::parse("http://h/{z}/{x}/{-y}.jpg").unwrap();
    assert_eq!(tms.url(tile(3, 1, 0)), "http://h/3/1/7.jpg");

    assert_eq!(
        UrlTemplate::parse("ftp://h/{z}/{x}/{y}"),
        Err(TemplateError::NotHttp)
    );
    assert_eq!(
        UrlTemplate::parse("http://h/{z}/{x}.png"),
        Err(TemplateError::MissingPlaceholder("{y}"))
    );
    assert_eq!(
        UrlTemplate::parse("http://h/{z}/{x}/{y}{q}"),
        Err(TemplateError::UnknownPlaceholder("{q}".into()))
    );
}

#[test]
fn settings_survive_a_serde_round_trip_and_old_files_fill_defaults() {
    let mut settings = BasemapSettings::default();
    settings.apply(&BasemapChoice::Xyz {
        url: "https://t/{z}/{x}/{y}.png".into(),
        attribution: "Me".into(),
    });
    settings.apply(&BasemapChoice::Tianditu {
        key: "k1".into(),
        imagery: true,
    });
    settings.apply(&BasemapChoice::PmTiles {
        path: PathBuf::from("/data/zibo.pmtiles"),
    });
    let json = serde_json::to_string(&settings).unwrap();
    let back: BasemapSettings = serde_json::from_str(&json).unwrap();
    assert_eq!(back, settings);
    assert_eq!(back.tianditu_key, "k1");
    assert!(back.tianditu_imagery);
    assert_eq!(back.recent_xyz[0].url, "https://t/{z}/{x}/{y}.png");

    let partial: BasemapSettings = serde_json::from_str(r#"{"choice":"OpenStreetMap"}"#).unwrap();
    assert_eq!(partial.choice, BasemapChoice::OpenStreetMap);
    assert!(partial.recent_xyz.is_empty());
    assert_eq!(BasemapSettings::default().choice, BasemapChoice::Builtin);
}

#[test]
fn recent_xyz_list_has_no_repeats_and_is_bounded() {
    let mut settings = BasemapSettings::default();
    for i in 0..12 {
        let url = format!("https://h{}/{{z}}/{{x}}/{{y}}.png", i % 10);
        settings.apply(&BasemapChoice::Xyz {
            url,
            attribution: String::new(),
        });
    }
    assert_eq!(settings.recent_xyz.len(), 8);
    assert_eq!(settings.recent_xyz[0].url, "https://h1/{z}/{x}/{y}.png");
    let mut urls: Vec<&XyzEntry> = settings.recent_xyz.iter().collect();
    urls.dedup_by(|a, b| a.url == b.url);
    assert_eq!(urls.len(), 8);
}

#[test]
fn unusable_choices_give_messages_and_fall_back_to_builtin() {
    let ctx = egui::Context::default();
    let mut basemaps = Basemaps::new(&ctx, None);
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("nowhere.pmtiles");
    let result = basemaps.set_choice(
        &BasemapChoice::PmTiles {
            path: missing.clone(),
        },
        &ctx,
    );
    assert_eq!(result, Err(BasemapProblem::NotFound(missing.clone())));
    assert!(basemaps.shows_builtin());
    assert!(basemaps.tile_layers().is_empty());
    let message = basemaps.status_message(Lang::En).unwrap();
    assert!(message.contains("nowhere.pmtiles"), "{message}");
    assert!(
        basemaps
            .status_message(Lang::Zh)
            .unwrap()
            .contains("找不到")
    );

    let not_pmtiles = dir.path().join("fake.pmtiles");
    std::fs::write(&not_pmtiles, vec![b'x'; 200]).unwrap();
    let result = basemaps.set_choice(&BasemapChoice::PmTiles { path: not_pmtiles }, &ctx);
    assert!(
        matches!(result, Err(BasemapProblem::NotPmTiles { .. })),
        "{result:?}"
    );

    let short = dir.path().join("short.pmtiles");
    std::fs::write(&short, b"PMTiles").unwrap();
    let result = basemaps.set_choice(&BasemapChoice::PmTiles { path: short }, &ctx);
    assert!(
        matches!(result, Err(BasemapProblem::NotPmTiles { .. })),
        "{result:?}"
    );

    let vector = dir.path().join("vector.pmtiles");
    let mut header = vec![0u8; 127];
    header[..7].copy_from_slice(b"PMTiles");
    header[7] = 3;
    header[99] = 1; // MVT
    std::fs::write(&vector, &header).unwrap();
    let result = basemaps.set_choice(&BasemapChoice::PmTiles { path: vector }, &ctx);
    assert!(
        matches!(result, Err(BasemapProblem::UnsupportedPmTiles { .. })),
        "{result:?}"
    );

    let no_folder = dir.path().join("tiles");
    let result = basemaps.set_choice(
        &BasemapChoice::TileFolder {
            path: no_folder.clone(),
        },
        &ctx,
    );
    assert_eq!(result, Err(BasemapProblem::NotFound(no_folder)));

    let result = basemaps.set_choice(
        &BasemapChoice::Tianditu {
            key: " ".into(),
            imagery: false,
        },
        &ctx,
    );
    assert_eq!(result, Err(BasemapProblem::MissingKey));
    let result = basemaps.set_choice(
        &BasemapChoice::Tianditu {
            key: "a&b".into(),
            imagery: false,
        },
        &ctx,
    );
    assert_eq!(result, Err(BasemapProblem::BadKey));

    let result = basemaps.set_choice(
        &BasemapChoice::Xyz {
            url: "tiles/{z}".into(),
            attribution: String::new(),
        },
        &ctx,
    );
    assert!(matches!(result, Err(BasemapProblem::BadTemplate { .. })));
    assert!(basemaps.shows_builtin());

    // Back to a good choice clears the problem.
    assert_eq!(basemaps.set_choice(&BasemapChoice::Builtin, &ctx), Ok(()));
    assert!(basemaps.status_message(Lang::En).is_none());
}

#[test]
fn tianditu_gives_base_then_labels_with_one_attribution() {
    let ctx = egui::Context::default();
    let mut basemaps = Basemaps::new(&ctx, None);
    basemaps
        .set_choice(
            &BasemapChoice::Tianditu {
                key: "abc".into(),
                imagery: true,
            },
            &ctx,
        )
        .unwrap();
    assert_eq!(basemaps.tile_layers().len(), 2);
    let attributions = basemaps.attributions();
    assert_eq!(attributions.len(), 1);
    assert!(attributions[0].0.contains("天地图"));
}

#[test]
fn tile_folder_choice_uses_attribution_txt() {
    let ctx = egui::Context::default();
    let dir = tempfile::tempdir().unwrap();
    write_tile(dir.path(), 0, 0, 0, "png", &png_bytes(4, 4, [9, 9, 9]));
    std::fs::write(dir.path().join("attribution.txt"), "© Zibo survey\nmore\n").unwrap();
    let mut basemaps = Basemaps::new(&ctx, None);
    basemaps
        .set_choice(
            &BasemapChoice::TileFolder {
                path: dir.path().to_path_buf(),
            },
            &ctx,
        )
        .unwrap();
    assert!(!basemaps.shows_builtin());
    assert_eq!(
        basemaps.attributions(),
        vec![("© Zibo survey".to_owned(), None)]
    );
    let mut layers = basemaps.tile_layers();
    assert!(poll_until(layers[0], tile(0, 0, 0), Duration::from_secs(5), full).is_some());
}

/// Serves `tile_png` for `/3/1/2.png` and 404 for anything else; records request headers.
/// While `online` is false, connections are closed without an answer (a network failure).
fn mock_tile_server(tile_png: Vec<u8>, online: Arc<AtomicBool>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let tile_png = tile_png.clone();
            let log = log.clone();
            let online = online.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut head = Vec::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push(line.trim_end().to_owned());
                    }
                    let path = head
                        .first()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("")
                        .to_owned();
                    log.lock().unwrap().extend(head.iter().cloned());
                    if !online.load(Ordering::SeqCst) {
                        return;
                    }
                    let (status, body): (&str, &[u8]) = if path == "/3/1/2.png" {
                        ("200 OK", &tile_png)
                    } else {
                        ("404 Not Found", b"no such tile")
                    };
                    let header = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: image/png\r\nCache-Control: max-age=86400\r\n\r\n",
                        body.len()
                    );
                    if stream.write_all(header.as_bytes()).is_err()
                        || stream.write_all(body).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

fn xyz(port: u16) -> BasemapChoice {
    BasemapChoice::Xyz {
        url: format!("http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png"),
        attribution: "Mock".into(),
    }
}

/// Drives the layers the way the map does each frame until `done` or the timeout.
fn drive(
    basemaps: &mut Basemaps,
    tiles: &[TileId],
    timeout: Duration,
    done: impl Fn(&Basemaps) -> bool,
) {
    let start = Instant::now();
    while !done(basemaps) && start.elapsed() < timeout {
        for layer in basemaps.tile_layers() {
            for t in tiles {
                layer.at(*t);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn http_xyz_fetches_from_a_local_server_and_reports_missing_tiles() {
    let online = Arc::new(AtomicBool::new(true));
    let (port, seen) = mock_tile_server(png_bytes(256, 256, [10, 20, 30]), online.clone());
    let ctx = egui::Context::default();
    let cache = tempfile::tempdir().unwrap();
    let mut basemaps = Basemaps::new(&ctx, Some(cache.path().to_path_buf()));
    basemaps.set_failure_grace(Duration::from_millis(300));
    basemaps.set_choice(&xyz(port), &ctx).unwrap();
    assert_eq!(basemaps.attributions(), vec![("Mock".to_owned(), None)]);

    let good = tile(3, 1, 2);
    let mut layers = basemaps.tile_layers();
    let piece = poll_until(layers[0], good, Duration::from_secs(10), full).expect("tile arrives");
    assert_eq!(texture_size(&piece), [256, 256]);
    drop(layers);
    let user_agent = seen
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.to_ascii_lowercase().starts_with("user-agent:"))
        .cloned()
        .unwrap();
    assert!(user_agent.contains("OneMap/"), "{user_agent}");

    // A 404 tile: reported after the grace time, while the good one is not.
    let missing = tile(3, 0, 0);
    drive(
        &mut basemaps,
        &[good, missing],
        Duration::from_secs(10),
        |b| b.failed_tile_count() > 0,
    );
    assert_eq!(basemaps.failed_tile_count(), 1);
    let message = basemaps.status_message(Lang::En).unwrap();
    assert!(message.contains("1 basemap tiles failed"), "{message}");

    // Reload starts afresh; the good tile comes back.
    basemaps.reload().unwrap();
    assert_eq!(basemaps.failed_tile_count(), 0);
    let mut layers = basemaps.tile_layers();
    assert!(poll_until(layers[0], good, Duration::from_secs(10), full).is_some());
}

#[test]
fn refused_connections_count_as_failures() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: connections are refused
    let ctx = egui::Context::default();
    let mut basemaps = Basemaps::new(&ctx, None);
    basemaps.set_failure_grace(Duration::from_millis(300));
    basemaps.set_choice(&xyz(port), &ctx).unwrap();
    let visible = [tile(2, 0, 0), tile(2, 1, 0), tile(2, 0, 1), tile(2, 1, 1)];
    drive(&mut basemaps, &visible, Duration::from_secs(10), |b| {
        b.failed_tile_count() >= 4
    });
    assert_eq!(basemaps.failed_tile_count(), 4);
    assert!(
        basemaps
            .status_message(Lang::Zh)
            .unwrap()
            .contains("4 个底图瓦片加载失败")
    );
}

#[test]
fn switcher_applies_osm_and_builtin_and_records_the_choice() {
    struct State {
        settings: BasemapSettings,
        basemaps: Basemaps,
        changes: usize,
    }
    let ctx = egui::Context::default();
    let state = State {
        settings: BasemapSettings::default(),
        basemaps: Basemaps::new(&ctx, None),
        changes: 0,
    };
    let mut harness = egui_kittest::Harness::new_ui_state(
        |ui, state: &mut State| {
            if onemap::ui::basemap_panel::basemap_panel(
                ui,
                Lang::En,
                &mut state.settings,
                &mut state.basemaps,
            ) {
                state.changes += 1;
            }
        },
        state,
    );
    harness.get_by_label("OpenStreetMap").click();
    harness.run();
    assert_eq!(
        harness.state().settings.choice,
        BasemapChoice::OpenStreetMap
    );
    assert!(!harness.state().basemaps.shows_builtin());
    assert_eq!(harness.state().changes, 1);

    // Choosing XYZ only opens the form: nothing applied until a valid URL and "Apply".
    harness.get_by_label("Custom XYZ tile URL").click();
    harness.run();
    assert_eq!(
        harness.state().settings.choice,
        BasemapChoice::OpenStreetMap
    );

    harness
        .get_by_label("Built-in vector map (offline)")
        .click();
    harness.run();
    assert_eq!(harness.state().settings.choice, BasemapChoice::Builtin);
    assert!(harness.state().basemaps.shows_builtin());
    assert_eq!(harness.state().changes, 2);
}

/// A minimal PMTiles v3 archive holding one uncompressed PNG tile at z0.
fn one_tile_pmtiles(png: &[u8]) -> Vec<u8> {
    fn varint(mut value: u64, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }
    // Directory: 1 entry; tile id delta 0; run length 1; length; offset + 1.
    let mut directory = Vec::new();
    for value in [1, 0, 1, png.len() as u64, 1] {
        varint(value, &mut directory);
    }
    let metadata = b"{}";
    let root_offset = 127u64;
    let metadata_offset = root_offset + directory.len() as u64;
    let data_offset = metadata_offset + metadata.len() as u64;
    let mut file = Vec::new();
    file.extend_from_slice(b"PMTiles");
    file.push(3);
    for value in [
        root_offset,
        directory.len() as u64,
        metadata_offset,
        metadata.len() as u64,
        data_offset, // no leaf directories
        0,
        data_offset,
        png.len() as u64,
        1, // addressed tiles
        1, // tile entries
        1, // tile contents
    ] {
        file.extend_from_slice(&value.to_le_bytes());
    }
    file.extend_from_slice(&[1, 1, 1, 2, 0, 0]); // clustered, no compression (x2), PNG, z0..z0
    for value in [-1_800_000_000i32, -850_000_000, 1_800_000_000, 850_000_000] {
        file.extend_from_slice(&value.to_le_bytes());
    }
    file.push(0);
    file.extend_from_slice(&0i32.to_le_bytes());
    file.extend_from_slice(&0i32.to_le_bytes());
    assert_eq!(file.len(), 127);
    file.extend_from_slice(&directory);
    file.extend_from_slice(metadata);
    file.extend_from_slice(png);
    file
}

#[test]
fn raster_pmtiles_file_loads_its_tile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.pmtiles");
    std::fs::write(&path, one_tile_pmtiles(&png_bytes(256, 256, [0, 0, 200]))).unwrap();
    let header = onemap::map::basemap::read_pmtiles_header(&path).unwrap();
    assert_eq!(
        (header.tile_type, header.min_zoom, header.max_zoom),
        (2, 0, 0)
    );

    let ctx = egui::Context::default();
    let mut basemaps = Basemaps::new(&ctx, None);
    basemaps
        .set_choice(&BasemapChoice::PmTiles { path }, &ctx)
        .unwrap();
    assert_eq!(basemaps.attributions()[0].0, "PMTiles: world.pmtiles");
    let mut layers = basemaps.tile_layers();
    let piece = poll_until(layers[0], tile(0, 0, 0), Duration::from_secs(10), full)
        .expect("the z0 tile comes out of the archive");
    assert_eq!(texture_size(&piece), [256, 256]);
}

#[test]
fn switcher_opens_a_typed_tile_folder_and_shows_a_bad_one_as_a_problem() {
    struct State {
        settings: BasemapSettings,
        basemaps: Basemaps,
    }
    let dir = tempfile::tempdir().unwrap();
    write_tile(dir.path(), 0, 0, 0, "png", &png_bytes(4, 4, [1, 1, 1]));
    let ctx = egui::Context::default();
    let settings = BasemapSettings {
        folder_draft: dir.path().display().to_string(),
        ..Default::default()
    };
    // The bundled CJK font is set up by the app, not by this panel: boxes are fine here.
    let mut harness = egui_kittest::Harness::builder()
        .allow_missing_glyphs()
        .build_ui_state(
            |ui, state: &mut State| {
                onemap::ui::basemap_panel::basemap_panel(
                    ui,
                    Lang::Zh,
                    &mut state.settings,
                    &mut state.basemaps,
                );
            },
            State {
                settings,
                basemaps: Basemaps::new(&ctx, None),
            },
        );
    harness.get_by_label("本地瓦片文件夹 (z/x/y)").click();
    harness.run();
    harness.get_by_label("打开").click();
    harness.run();
    assert_eq!(
        harness.state().settings.choice,
        BasemapChoice::TileFolder {
            path: dir.path().to_path_buf()
        }
    );
    assert!(!harness.state().basemaps.shows_builtin());

    harness.state_mut().settings.folder_draft = dir.path().join("nope").display().to_string();
    harness.run();
    harness.get_by_label("打开").click();
    harness.run();
    assert!(harness.state().basemaps.shows_builtin());
    // The problem is on screen, in the panel's language.
    let message = harness.state().basemaps.status_message(Lang::Zh).unwrap();
    assert!(message.contains("找不到"), "{message}");
    harness.get_by_label(&message);
}

#[test]
fn tiles_come_from_the_disk_cache_when_the_server_is_gone() {
    let online = Arc::new(AtomicBool::new(true));
    let (port, seen) = mock_tile_server(png_bytes(256, 256, [40, 50, 60]), online.clone());
    let ctx = egui::Context::default();
    let cache = tempfile::tempdir().unwrap();
    let good = tile(3, 1, 2);
    {
        let mut basemaps = Basemaps::new(&ctx, Some(cache.path().to_path_buf()));
        basemaps.set_choice(&xyz(port), &ctx).unwrap();
        let mut layers = basemaps.tile_layers();
        assert!(poll_until(layers[0], good, Duration::from_secs(10), full).is_some());
    }
    online.store(false, Ordering::SeqCst);
    let requests_before = seen.lock().unwrap().len();

    // A fresh source (as after a restart) with the network gone still shows the tile.
    let mut basemaps = Basemaps::new(&ctx, Some(cache.path().to_path_buf()));
    basemaps.set_failure_grace(Duration::from_millis(300));
    basemaps.set_choice(&xyz(port), &ctx).unwrap();
    let mut layers = basemaps.tile_layers();
    let piece = poll_until(layers[0], good, Duration::from_secs(10), full);
    assert!(piece.is_some(), "cached tile missing offline");
    drop(layers);
    assert_eq!(
        seen.lock().unwrap().len(),
        requests_before,
        "no request reached the server"
    );

    // An uncached tile fails, and says so.
    drive(
        &mut basemaps,
        &[good, tile(3, 0, 0)],
        Duration::from_secs(10),
        |b| b.failed_tile_count() > 0,
    );
    assert_eq!(basemaps.failed_tile_count(), 1);
}
