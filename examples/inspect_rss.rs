//! Runs `onemap inspect` on the paths given, for measuring peak memory and load time
//! (`/usr/bin/time -v target/release/examples/inspect_rss FILE`) before `main` wires it.

fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let start = std::time::Instant::now();
    let code = onemap::cli::run_inspect(&paths);
    eprintln!("inspect took {:.3} s", start.elapsed().as_secs_f64());
    std::process::exit(code);
}
