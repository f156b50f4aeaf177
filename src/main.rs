//! Start-up: parse the command line, then open the window or run a headless command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "onemap",
    version,
    about = "OneMap (应急一张图): emergency command GIS"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Commands>,
    /// Layer files to open in the window.
    files: Vec<PathBuf>,
    /// Start the window looking at LON,LAT,ZOOM (e.g. 117.87,36.80,14).
    #[arg(long, value_parser = parse_view)]
    view: Option<(f64, f64, f64)>,
}

fn parse_view(text: &str) -> Result<(f64, f64, f64), String> {
    let parts: Vec<f64> = text
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("expected LON,LAT,ZOOM: {e}"))?;
    match parts.as_slice() {
        [lon, lat, zoom]
            if (-180.0..=180.0).contains(lon)
                && (-85.0..=85.0).contains(lat)
                && (0.0..=20.0).contains(zoom) =>
        {
            Ok((*lon, *lat, *zoom))
        }
        _ => Err(
            "expected LON,LAT,ZOOM with lon in [-180, 180], lat in [-85, 85], zoom in [0, 20]"
                .into(),
        ),
    }
}

#[derive(Subcommand)]
enum Commands {
    /// Print one JSON summary per input layer (features, types, bbox, lengths, areas, sums,
    /// format, CRS and encoding with the reasons).
    Inspect {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        read: onemap::cli::inspect::ReadArgs,
    },
    /// Convert any readable file to GeoJSON, CSV or Shapefile (by OUT's extension).
    Convert(onemap::cli::convert::ConvertArgs),
    /// Drive-time response areas from stations over a road network, as GeoJSON bands.
    Isochrones(onemap::cli::isochrones::IsochroneArgs),
    /// Covered share of population, built-up area and layers within a band; station districts.
    Coverage(onemap::cli::coverage::CoverageArgs),
    /// Choose k new station sites covering the most demand within a band; GB 51080 checks.
    Site(onemap::cli::site::SiteArgs),
    /// Around an incident: stations by ETA, features within the radius, shelters, people.
    Incident(onemap::cli::incident::IncidentArgs),
    /// Evacuation zone report: people and features inside, shelter allocation, siting flags.
    ZoneReport(onemap::cli::zone_report::ZoneReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Commands::Inspect { paths, read }) => {
            exit_code(onemap::cli::inspect::run_inspect(&paths, &read))
        }
        Some(Commands::Convert(args)) => exit_code(onemap::cli::convert::run_convert(&args)),
        Some(Commands::Isochrones(args)) => {
            exit_code(onemap::cli::isochrones::run_isochrones(&args))
        }
        Some(Commands::Coverage(args)) => exit_code(onemap::cli::coverage::run_coverage(&args)),
        Some(Commands::Site(args)) => exit_code(onemap::cli::site::run_site(&args)),
        Some(Commands::Incident(args)) => exit_code(onemap::cli::incident::run_incident(&args)),
        Some(Commands::ZoneReport(args)) => {
            exit_code(onemap::cli::zone_report::run_zone_report(&args))
        }
        None => run_window(cli.files, cli.view),
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run_window(files: Vec<PathBuf>, view: Option<(f64, f64, f64)>) -> ExitCode {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("OneMap 应急一张图")
            .with_inner_size([1280.0, 800.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native(
        "onemap",
        options,
        Box::new(move |cc| {
            onemap::ui::fonts::install_fonts(&cc.egui_ctx);
            let mut app = onemap::ui::OneMapApp::new(cc, files);
            if let Some((lon, lat, zoom)) = view {
                app.state.view_request = Some(onemap::app::ViewRequest::Center { lon, lat, zoom });
                // An explicit view wins over fitting the loaded layers.
                app.state.settings.view_center = Some((lon, lat));
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onemap: cannot open the window: {e}");
            ExitCode::FAILURE
        }
    }
}
