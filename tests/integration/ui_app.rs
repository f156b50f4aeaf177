//! Interaction tests of the real window contents, headless with egui_kittest: layers load,
//! a click identifies, a layer toggled off stops being hit, the language switch works.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use egui::{Pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use onemap::app::Settings;
use onemap::i18n::Lang;
use onemap::ui::OneMapApp;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// An app with only the given files loaded (no demo, no saved settings).
fn app_with(files: Vec<PathBuf>, lang: Lang) -> OneMapApp {
    let settings = Settings {
        lang,
        layers: Some(Vec::new()),
        ..Settings::default()
    };
    let mut app = OneMapApp::with_settings(&egui::Context::default(), settings, files);
    app.state.wait_for_loads();
    app
}

fn harness(app: OneMapApp) -> Harness<'static, OneMapApp> {
    let mut harness = Harness::builder()
        .with_size(vec2(1280.0, 800.0))
        // Chinese must render: any glyph missing from the bundled font fails the test.
        .with_context_setup(|ctx| {
            onemap::ui::fonts::install_fonts(ctx);
        })
        .build_ui_state(|ui, app: &mut OneMapApp| app.frame(ui), app);
    harness.run_steps(4);
    harness
}

fn click_at(harness: &mut Harness<'_, OneMapApp>, pos: Pos2) {
    harness.event(egui::Event::PointerMoved(pos));
    harness.step();
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        harness.step();
    }
    harness.run_steps(2);
}

fn screen_of(harness: &Harness<'_, OneMapApp>, lon: f64, lat: f64) -> Pos2 {
    harness
        .state()
        .map
        .last_view
        .expect("the map has drawn a frame")
        .lonlat_to_screen(lon, lat)
}

#[test]
fn clicking_a_fire_station_shows_its_attributes() {
    let mut h = harness(app_with(
        vec![fixture("fire_stations_small.geojson")],
        Lang::En,
    ));
    assert_eq!(h.state().state.layers.len(), 1);
    let p = screen_of(&h, 117.85, 36.80);
    click_at(&mut h, p);
    let identified = &h.state().state.identified;
    assert_eq!(identified.len(), 1, "one station under the click");
    // The identify panel lists every attribute of the station.
    h.get_by_label("personnel");
    h.get_by_label("30");
    h.get_by_label("测试一站");
}

#[test]
fn a_hidden_layer_is_no_longer_hit() {
    let mut h = harness(app_with(
        vec![fixture("fire_stations_small.geojson")],
        Lang::En,
    ));
    let p = screen_of(&h, 117.90, 36.82);
    click_at(&mut h, p);
    assert_eq!(h.state().state.identified.len(), 1);

    let title = h.state().state.layers[0].title().to_owned();
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &title)
        .click();
    h.run_steps(2);
    assert!(!h.state().state.layers[0].visible);
    click_at(&mut h, p);
    assert!(h.state().state.identified.is_empty());
}

#[test]
fn clicking_inside_a_hole_does_not_hit_the_polygon() {
    let mut h = harness(app_with(vec![fixture("zone_small.geojson")], Lang::En));
    let in_hole = screen_of(&h, 117.87, 36.80);
    click_at(&mut h, in_hole);
    assert!(h.state().state.identified.is_empty());
    let in_ring = screen_of(&h, 117.82, 36.78);
    click_at(&mut h, in_ring);
    assert_eq!(h.state().state.identified.len(), 1);
}

#[test]
fn the_language_switch_changes_the_labels() {
    let mut h = harness(app_with(vec![], Lang::Zh));
    h.get_by_label("图层");
    assert!(h.query_by_label("Layers").is_none());
    h.get_by_label("English").click();
    h.run_steps(2);
    h.get_by_label("Layers");
    assert!(h.query_by_label("图层").is_none());
    assert_eq!(h.state().state.settings.lang, Lang::En);
}

#[test]
fn search_finds_by_attribute_and_highlights() {
    let mut h = harness(app_with(
        vec![fixture("fire_stations_small.geojson")],
        Lang::En,
    ));
    h.get_by_label("Search & identify").click();
    h.run_steps(2);
    let input = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search");
    input.focus();
    input.type_text("二站");
    h.run_steps(2);
    h.get_by_label("Find").click();
    h.run_steps(2);
    assert_eq!(h.state().state.search_results.len(), 1);
    h.get_by_label_contains("测试二站").click();
    h.run_steps(2);
    let highlighted = h.state().state.highlighted.clone().unwrap();
    assert_eq!(highlighted.feature, 1);
}

#[test]
fn the_app_starts_with_the_demo_district_and_identifies_a_fire_station() {
    let settings = Settings {
        lang: Lang::Zh,
        ..Settings::default()
    };
    let mut app = OneMapApp::with_settings(&egui::Context::default(), settings, vec![]);
    app.state.wait_for_loads();
    let demo_files = std::fs::read_dir(onemap::app::demo_dir().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "geojson"))
        })
        .count();
    assert_eq!(app.state.layers.len(), demo_files);
    assert!(
        !app.state.basemap_layers.is_empty(),
        "built-in basemap data"
    );
    let stations = app
        .state
        .layers
        .iter()
        .find(|l| l.layer.kind == onemap::model::LayerKind::FireStation)
        .unwrap();
    assert_eq!(stations.layer.len(), 5);
    let geo::Geometry::Point(p) = stations.layer.geometries[0] else {
        panic!("stations are points")
    };
    let name = stations.layer.attributes.get(0, "name").to_string();
    let trucks = stations.layer.attributes.get(0, "trucks").to_string();

    let mut h = harness(app);
    // Zoom in on the station so nothing else is under the cursor.
    h.state_mut().map.apply_request(
        onemap::app::ViewRequest::Center {
            lon: p.x(),
            lat: p.y(),
            zoom: 16.0,
        },
        vec2(700.0, 700.0),
    );
    h.run_steps(3);
    let pos = screen_of(&h, p.x(), p.y());
    click_at(&mut h, pos);
    let hits = h.state().state.identified.clone();
    assert!(!hits.is_empty());
    let first = h.state().state.layer(hits[0].layer).unwrap();
    assert_eq!(first.layer.kind, onemap::model::LayerKind::FireStation);
    h.get_by_label("trucks");
    assert!(h.query_all_by_label(&trucks).count() >= 1);
    assert!(h.query_all_by_label_contains(&name).count() >= 1);
}

#[test]
fn dropping_a_file_on_the_window_opens_it() {
    /// What a desktop integration hands egui for a file dropped from the file manager.
    #[derive(Debug)]
    struct DroppedPath(PathBuf);
    impl egui::DroppedFile for DroppedPath {
        fn path(&self) -> &std::path::Path {
            &self.0
        }
        fn bytes(&self) -> Result<Vec<u8>, String> {
            std::fs::read(&self.0).map_err(|e| e.to_string())
        }
    }

    let mut h = harness(app_with(vec![], Lang::En));
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(fixture(
            "fire_stations_small.geojson",
        ))));
    h.run_steps(2);
    h.state_mut().state.wait_for_loads();
    h.run_steps(2);
    assert_eq!(h.state().state.layers.len(), 1);
}

/// The covered area of the 5-minute band in the response panel's table.
fn five_minute_km2(h: &Harness<'_, OneMapApp>) -> f64 {
    h.state()
        .state
        .response_bands
        .iter()
        .find(|(minutes, _)| *minutes == 5.0)
        .map(|(_, km2)| *km2)
        .expect("a 5-minute band")
}

#[test]
fn response_areas_appear_and_shrink_when_a_station_is_busy() {
    let settings = Settings {
        lang: Lang::En,
        ..Settings::default()
    };
    let mut app = OneMapApp::with_settings(&egui::Context::default(), settings, vec![]);
    app.state.wait_for_loads();
    let mut h = harness(app);
    h.get_by_label("Compute response areas").click();
    h.run_steps(2);
    let id = h
        .state()
        .state
        .response_layer
        .expect("a response-area layer");
    let areas = h.state().state.layer(id).unwrap();
    assert_eq!(areas.layer.len(), 4, "one feature per default band");
    let five_before = five_minute_km2(&h);
    assert!(five_before > 0.0);
    let station = h.state().state.station_ids()[0].clone();
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &station)
        .click();
    h.run_steps(2);
    let five_after = five_minute_km2(&h);
    assert!(five_after < five_before, "{five_after} < {five_before}");
    assert_eq!(h.state().state.responding.len(), 4);
}

/// The demo district, English, with its layers loaded.
fn demo_app() -> Harness<'static, OneMapApp> {
    let settings = Settings {
        lang: Lang::En,
        ..Settings::default()
    };
    let mut app = OneMapApp::with_settings(&egui::Context::default(), settings, vec![]);
    app.state.wait_for_loads();
    harness(app)
}

/// The demo at street level over the town centre, where the zone and incident tests click.
fn demo_app_in_town() -> Harness<'static, OneMapApp> {
    let mut h = demo_app();
    h.state_mut().state.view_request = Some(onemap::app::ViewRequest::Center {
        lon: 117.868,
        lat: 36.803,
        zoom: 14.0,
    });
    h.run_steps(3);
    h
}

#[test]
fn coverage_report_counts_population_and_flags_uncovered_features() {
    let mut h = demo_app();
    h.get_by_label("Compute coverage").click();
    h.run_steps(2);
    let summary = h.state().state.coverage.clone().expect("a coverage report");
    assert_eq!(summary.minutes, 5.0);
    let population = summary.population.expect("the demo has a population layer");
    assert!(population.covered > 0.0 && population.covered < population.total);
    let builtup = summary.builtup.expect("the demo has a built-up layer");
    assert!(builtup.share.unwrap() > 0.0);
    assert_eq!(summary.districts.len(), 5);
    // Uncovered features are flagged on the map, layer by layer.
    let (layer, schools) = summary
        .layers
        .iter()
        .find(|(id, _)| {
            h.state().state.layer(*id).unwrap().layer.kind == onemap::model::LayerKind::School
        })
        .expect("schools are checked");
    assert_eq!(
        h.state().state.flagged_features(*layer),
        schools.uncovered_rows
    );
    assert_eq!(
        schools.covered + schools.uncovered_rows.len(),
        schools.total
    );
    // Shelters failing a siting check are marked too, with their reasons.
    let (shelter_layer, flags) = h.state().state.shelter_flags.clone().expect("checked");
    assert!(!flags.is_empty(), "the demo has shelters near hazards");
    let marked = h.state().state.flagged_features(shelter_layer);
    assert!(
        flags
            .iter()
            .all(|f| marked.contains(&f.row) && !f.reasons.is_empty())
    );
    // Marking a station busy updates the report at once.
    let station = h.state().state.station_ids()[0].clone();
    // The side panel widens to fit the report over a few frames: let it settle.
    h.run_steps(4);
    h.get_by_role_and_label(egui::accesskit::Role::CheckBox, &station)
        .click();
    h.run_steps(2);
    assert!(h.state().state.response.busy.contains(&station));
    let after = h.state().state.coverage.clone().unwrap();
    assert_eq!(after.districts.len(), 4);
    assert!(after.population.unwrap().covered < population.covered);
}

#[test]
fn dragging_a_station_moves_it_and_its_areas_follow() {
    let mut h = demo_app();
    h.get_by_label("Compute response areas").click();
    h.run_steps(2);
    h.get_by_label("Drag stations").click();
    h.run_steps(2);
    let five_before = five_minute_km2(&h);
    let (layer_id, start) = {
        let state = &h.state().state;
        let l = state
            .layers
            .iter()
            .find(|l| l.layer.kind == onemap::model::LayerKind::FireStation)
            .unwrap();
        let geo::Geometry::Point(p) = l.layer.geometries[0] else {
            panic!("stations are points")
        };
        (l.id, p)
    };
    let from = screen_of(&h, start.x(), start.y());
    // Drag the station far out of town: its area shrinks (fewer roads nearby, overlap gone).
    let to = from + vec2(0.0, 250.0);
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event(egui::Event::PointerButton {
        pos: from,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    for i in 1..=10 {
        h.event(egui::Event::PointerMoved(
            from + (to - from) * (i as f32 / 10.0),
        ));
        h.step();
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(3);
    let state = &h.state().state;
    let l = state.layer(layer_id).unwrap();
    let geo::Geometry::Point(moved) = l.layer.geometries[0] else {
        panic!("stations are points")
    };
    assert!(
        moved.y() < start.y() - 0.005,
        "the station moved south: {start:?} -> {moved:?}"
    );
    let five_after = five_minute_km2(&h);
    assert!(
        (five_after - five_before).abs() > 0.01,
        "the 5-minute area changed: {five_before} -> {five_after}"
    );
    // The live (one-station) recompute agrees with a full one.
    h.state_mut()
        .state
        .apply(onemap::app::Command::ComputeResponseAreas);
    h.run_steps(2);
    let five_full = five_minute_km2(&h);
    assert!(
        (five_full - five_after).abs() < 1e-9,
        "live {five_after} vs full {five_full}"
    );
}

#[test]
fn a_csv_goes_through_the_import_dialog_and_the_choice_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("points_from_amap.csv");
    // Two points picked on Amap (GCJ-02) in Zhoucun.
    std::fs::write(
        &csv,
        "名称,经度,纬度\n甲,117.8750,36.8030\n乙,117.8900,36.8100\n",
    )
    .unwrap();
    let mut h = harness(app_with(vec![], Lang::En));
    h.state_mut()
        .state
        .apply(onemap::app::Command::OpenFiles(vec![csv.clone()]));
    h.state_mut().state.wait_for_loads();
    h.run_steps(3);
    // A table cannot say WGS84 from GCJ-02: nothing is added until the user decides.
    assert!(h.state().state.layers.is_empty());
    assert!(h.state().state.pending_import.is_some());
    h.get_by_label_contains("No coordinate system given");
    let crs = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Coordinate system");
    crs.focus();
    crs.type_text("gcj02");
    h.run_steps(2);
    h.get_by_label("Read again with these choices").click();
    h.run_steps(2);
    h.state_mut().state.wait_for_loads();
    h.run_steps(3);
    h.get_by_label("Import").click();
    h.run_steps(3);
    let state = &h.state().state;
    assert!(state.pending_import.is_none());
    assert_eq!(state.layers.len(), 1);
    let geo::Geometry::Point(p) = state.layers[0].layer.geometries[0] else {
        panic!("points")
    };
    // GCJ-02 -> WGS84 moves Zhoucun about 516 m west and 23 m south.
    let (dx_m, dy_m) = (
        (p.x() - 117.8750) * 111_320.0 * 36.803f64.to_radians().cos(),
        (p.y() - 36.8030) * 110_950.0,
    );
    assert!((-560.0..-470.0).contains(&dx_m), "{dx_m}");
    assert!((-45.0..0.0).contains(&dy_m), "{dy_m}");
    let remembered = state
        .settings
        .import_choices
        .get(&onemap::app::path_key(&csv))
        .unwrap();
    assert_eq!(remembered.crs.as_deref(), Some("gcj02"));
    // Opened again: the remembered choice applies without asking.
    h.state_mut()
        .state
        .apply(onemap::app::Command::OpenFiles(vec![csv]));
    h.state_mut().state.wait_for_loads();
    h.run_steps(2);
    assert!(h.state().state.pending_import.is_none());
    assert_eq!(h.state().state.layers.len(), 2);
}

#[test]
fn an_excel_sheet_is_chosen_in_the_import_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stations.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let first = workbook.add_worksheet();
    first.set_name("说明").unwrap();
    first.write_string(0, 0, "经度").unwrap();
    first.write_string(0, 1, "纬度").unwrap();
    first.write_number(1, 0, 117.87).unwrap();
    first.write_number(1, 1, 36.80).unwrap();
    let second = workbook.add_worksheet();
    second.set_name("Stations").unwrap();
    second.write_string(0, 0, "lon").unwrap();
    second.write_string(0, 1, "lat").unwrap();
    for (row, (lon, lat)) in [(117.88, 36.81), (117.89, 36.82), (117.90, 36.83)]
        .iter()
        .enumerate()
    {
        second.write_number(row as u32 + 1, 0, *lon).unwrap();
        second.write_number(row as u32 + 1, 1, *lat).unwrap();
    }
    workbook.save(&path).unwrap();

    let mut h = harness(app_with(vec![], Lang::En));
    h.state_mut()
        .state
        .apply(onemap::app::Command::OpenFiles(vec![path.clone()]));
    h.state_mut().state.wait_for_loads();
    h.run_steps(3);
    assert!(h.state().state.pending_import.is_some());
    // The first sheet was read; the other one is offered.
    h.get_by_label("Sheet").click();
    h.run_steps(2);
    h.get_by_label("Stations").click();
    h.run_steps(2);
    h.get_by_label("Read again with these choices").click();
    h.run_steps(2);
    h.state_mut().state.wait_for_loads();
    h.run_steps(3);
    h.get_by_label("Import").click();
    h.run_steps(3);
    let state = &h.state().state;
    assert_eq!(state.layers.len(), 1);
    assert_eq!(state.layers[0].layer.geometries.len(), 3);
    let remembered = state
        .settings
        .import_choices
        .get(&onemap::app::path_key(&path))
        .unwrap();
    assert_eq!(remembered.sheet.as_deref(), Some("Stations"));
}

/// Clicks at a lon/lat on the map.
fn click_lonlat(h: &mut Harness<'_, OneMapApp>, lon: f64, lat: f64) {
    let p = screen_of(h, lon, lat);
    click_at(h, p);
}

#[test]
fn a_zone_drawn_by_clicks_gets_a_report_and_undo_takes_it_back() {
    let mut h = demo_app_in_town();
    h.get_by_label("Draw zone (polygon)").click();
    h.run_steps(2);
    for (lon, lat) in [
        (117.860, 36.798),
        (117.876, 36.798),
        (117.876, 36.809),
        (117.860, 36.809),
    ] {
        click_lonlat(&mut h, lon, lat);
    }
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
    let state = &h.state().state;
    assert_eq!(state.scenario.zones.len(), 1, "Enter finishes the polygon");
    let zone = &state.scenario.zones[0];
    assert_eq!(zone.shape.ring().map(<[_]>::len), Some(4));
    let (id, report) = state.zone_report.as_ref().expect("the zone is reported");
    assert_eq!(*id, zone.id);
    assert!(
        report.population.total > 1000.0,
        "{}",
        report.population.total
    );
    assert_eq!(
        report.allocation.placed + report.allocation.unplaced,
        report.evacuees
    );
    // The Zones tab shows the report.
    h.get_by_label_contains("People inside");
    h.get_by_label_contains("Shelter plan");
    h.get_by_label_contains("Undo").click();
    h.run_steps(2);
    assert!(h.state().state.scenario.zones.is_empty());
    h.get_by_label_contains("Redo").click();
    h.run_steps(2);
    assert_eq!(h.state().state.scenario.zones.len(), 1);
}

#[test]
fn placing_an_incident_ranks_the_stations_by_eta() {
    let mut h = demo_app_in_town();
    h.get_by_label("Place incident").click();
    h.run_steps(2);
    click_lonlat(&mut h, 117.8705, 36.8040);
    h.run_steps(2);
    let state = &h.state().state;
    assert_eq!(state.scenario.incidents.len(), 1);
    let (_, report) = state.incident_report.as_ref().expect("an incident report");
    assert_eq!(report.stations.len(), 5);
    let etas: Vec<f64> = report.stations.iter().filter_map(|s| s.eta_s).collect();
    assert!(etas.len() >= 4, "{etas:?}");
    assert!(etas.windows(2).all(|w| w[0] <= w[1]), "sorted: {etas:?}");
    assert!(etas[0] >= 60.0, "turnout is included: {etas:?}");
    assert!(!report.shelters.is_empty());
    h.get_by_label_contains("Stations by ETA");
    // Marking the fastest station busy keeps it listed, marked busy.
    let fastest = report.stations[0].id.clone();
    h.state_mut()
        .state
        .apply(onemap::app::Command::SetStationBusy(fastest.clone(), true));
    h.run_steps(2);
    let (_, report) = h.state().state.incident_report.clone().unwrap();
    let entry = report.stations.iter().find(|s| s.id == fastest).unwrap();
    assert!(entry.busy);
}

#[test]
fn siting_proposes_new_stations_that_cover_more_people() {
    let mut h = demo_app();
    h.get_by_label("Find the best sites");
    h.state_mut()
        .state
        .apply(onemap::app::Command::ComputeSiting {
            k: 2,
            spacing_m: 1500.0,
            minutes: 5.0,
        });
    h.run_steps(3);
    let siting = h.state().state.siting.clone().expect("sites proposed");
    assert_eq!(siting.sites.len(), 2);
    assert!(siting.after > siting.before, "{siting:?}");
    let gains: f64 = siting.sites.iter().map(|s| s.2).sum();
    assert!(
        (siting.before + gains - siting.after).abs() < 1e-6,
        "{siting:?}"
    );
    h.get_by_label_contains("New site 1");
}

#[test]
fn a_zone_buffers_the_selected_feature_and_the_project_reopens_it() {
    let mut h = demo_app();
    let (layer, feature) = {
        let state = &h.state().state;
        let l = state
            .layers
            .iter()
            .find(|l| l.layer.kind == onemap::model::LayerKind::HazchemEnterprise)
            .unwrap();
        (l.id, 0)
    };
    h.state_mut()
        .state
        .apply(onemap::app::Command::FlyTo(onemap::app::FeatureRef {
            layer,
            feature,
        }));
    h.run_steps(2);
    h.get_by_label("Zones").click();
    h.run_steps(2);
    h.get_by_label("Zone around the selected feature").click();
    h.run_steps(3);
    let state = &h.state().state;
    assert_eq!(state.scenario.zones.len(), 1);
    let zone = &state.scenario.zones[0];
    assert!(matches!(
        zone.shape,
        onemap::scenario::document::ZoneShape::Buffer { .. }
    ));
    // 200 m around a point: about 0.126 km².
    let area = onemap::analysis::measure::multipolygon_area_m2(&zone.to_multi_polygon());
    assert!(
        (area / (std::f64::consts::PI * 200.0 * 200.0) - 1.0).abs() < 0.02,
        "{area}"
    );

    // Save, then open the project in a fresh window: the zone and settings come back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("work.onemap");
    h.state_mut()
        .state
        .apply(onemap::app::Command::SetM2PerPerson(3.0));
    h.state_mut()
        .state
        .apply(onemap::app::Command::SaveProject(path.clone()));
    assert!(path.exists());
    let saved = h.state().state.scenario.clone();
    let mut reopened = app_with(vec![path.clone()], Lang::En);
    reopened.state.wait_for_loads();
    assert_eq!(reopened.state.scenario, saved);
    assert_eq!(reopened.state.m2_per_person, 3.0);
    assert_eq!(reopened.state.selected_zone, Some(saved.zones[0].id));
    assert!(
        reopened.state.layers.len() >= 20,
        "the project's layers load"
    );
}

#[test]
fn the_map_exports_as_a_png_sheet_with_the_zones() {
    let mut h = demo_app();
    h.state_mut()
        .state
        .apply(onemap::app::Command::AddCircleZone {
            lon: 117.87,
            lat: 36.80,
            radius_m: 800.0,
        });
    h.state_mut()
        .state
        .apply(onemap::app::Command::SetApprovalNumber(
            "GS(2024)0650".into(),
        ));
    h.run_steps(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.png");
    h.state_mut().export_map_png(&path);
    let image = image::open(&path).expect("a PNG").to_rgba8();
    assert_eq!(image.dimensions(), (1600, 1100));
    assert!(
        h.state()
            .state
            .notices
            .iter()
            .any(|n| !n.is_error && n.text.contains("map.png")),
        "the export is reported"
    );
}

#[test]
fn unsaved_work_is_autosaved_to_the_recovery_file() {
    let dir = tempfile::tempdir().unwrap();
    let recovery = dir.path().join("unsaved-work.onemap");
    let mut app = app_with(vec![], Lang::En);
    app.state.recovery_path = Some(recovery.clone());
    app.state.autosave_tick(0.0);
    assert!(!recovery.exists(), "nothing to keep yet");
    app.state.apply(onemap::app::Command::PlaceIncident {
        kind: onemap::model::IncidentKind::Flood,
        lon: 117.87,
        lat: 36.80,
    });
    app.state.autosave_tick(1.0);
    // The policy waits for the work to settle, then saves.
    app.state.autosave_tick(200.0);
    let project = onemap::scenario::project::load(&recovery).expect("a readable project");
    assert_eq!(project.scenario.incidents.len(), 1);
    assert_eq!(
        project.scenario.incidents[0].fields.kind,
        onemap::model::IncidentKind::Flood
    );
}
