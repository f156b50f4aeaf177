//! `onemap inspect PATH...`: loads each file with the window's loader and prints one JSON
//! summary per layer on stdout, and each warning or error as one line on stderr.

use std::io::Write;
use std::path::PathBuf;

use crate::io::{self, Loaded, Progress, summary::summarize};

/// Runs `inspect` over `paths` on stdout/stderr; returns the process exit code: 0 when at
/// least one layer loaded, 1 when none did.
pub fn run_inspect(paths: &[PathBuf]) -> i32 {
    inspect_to(
        paths,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

/// [`run_inspect`] writing to the given streams (for tests).
pub fn inspect_to(paths: &[PathBuf], out: &mut impl Write, err: &mut impl Write) -> i32 {
    let mut loaded_any = false;
    for path in paths {
        match io::load_path(path, &Progress::default()) {
            Ok(loaded) => {
                loaded_any |= counts_as_loaded(&loaded);
                for warning in &loaded.warnings {
                    // A closed stderr (e.g. `2>&-`) must not stop the summaries.
                    let _ = writeln!(err, "warning: {warning}");
                }
                let _ = writeln!(out, "{}", summarize(&loaded));
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
            }
        }
    }
    let _ = out.flush();
    if loaded_any { 0 } else { 1 }
}

/// A layer counts unless every feature it had was dropped: a valid empty collection
/// loaded fine, a file of only bad features did not.
fn counts_as_loaded(loaded: &Loaded) -> bool {
    !loaded.layer.is_empty() || loaded.warnings.iter().all(|w| w.feature.is_none())
}
