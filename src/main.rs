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
}

#[derive(Subcommand)]
enum Commands {
    /// Print one JSON summary per input layer (features, types, bbox, lengths, areas, sums).
    Inspect {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Commands::Inspect { paths }) => {
            ExitCode::from(onemap::cli::inspect::run_inspect(&paths).clamp(0, 255) as u8)
        }
        None => run_window(cli.files),
    }
}

fn run_window(files: Vec<PathBuf>) -> ExitCode {
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
            Ok(Box::new(onemap::ui::OneMapApp::new(cc, files)))
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
