//! Architecture checks on the source text: the core stays free of GUI crates, the clock and
//! threads, and every source file opens with a `//!` line saying what it is for.

use std::path::{Path, PathBuf};

/// Source trees of the core: the parts that must run headless, deterministically, in tests.
const CORE: &[&str] = &[
    "src/model",
    "src/io",
    "src/spatial",
    "src/crs",
    "src/analysis",
    "src/scenario",
    "src/i18n.rs",
];

/// Names the core must not use: GUI crates, the wall clock, thread spawning.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "egui",
    "egui_extras",
    "eframe",
    "walkers",
    "rfd",
    "thread::spawn",
    "Instant::now",
    "SystemTime::now",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file at or under `path` (a file or a directory), sorted.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if path.is_file() {
        if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path.to_owned());
        }
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            files.extend(rust_files(&entry.path()));
        }
    }
    files.sort();
    files
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `line` names `word` as a whole identifier path (not as part of a longer name),
/// outside a `//` comment.
fn names(line: &str, word: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(is_identifier_char) && !after.is_some_and(is_identifier_char)
    })
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn core_uses_no_gui_clock_or_threads() {
    let mut offences = Vec::new();
    let mut checked = 0;
    for part in CORE {
        for file in rust_files(&root().join(part)) {
            checked += 1;
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (number, line) in text.lines().enumerate() {
                for word in FORBIDDEN_IN_CORE {
                    if names(line, word) {
                        offences.push(format!(
                            "{}:{}: uses `{word}`: {}",
                            relative(&file),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no core sources found under {}",
        root().display()
    );
    // A renamed or moved core part must not drop out of the check unnoticed.
    let missing: Vec<&str> = CORE
        .iter()
        .copied()
        .filter(|part| rust_files(&root().join(part)).is_empty())
        .collect();
    assert!(
        missing.is_empty(),
        "core parts listed here have no sources: {missing:?}"
    );
    assert!(
        offences.is_empty(),
        "the core (model, io, spatial, crs, analysis, scenario, i18n) must not use GUI crates, \
         the clock or threads:\n{}",
        offences.join("\n")
    );
}

#[test]
fn every_source_file_starts_with_a_module_doc_line() {
    let files = rust_files(&root().join("src"));
    assert!(!files.is_empty());
    let missing: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            !text.trim_start_matches('\u{feff}').starts_with("//!")
        })
        .map(|file| relative(file))
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not start with a `//!` line saying what they are for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_word_match_finds_uses_and_ignores_comments_and_longer_names() {
    assert!(names("use egui::Context;", "egui"));
    assert!(names(
        "    let t = std::time::Instant::now();",
        "Instant::now"
    ));
    assert!(names(
        "std::thread::spawn(move || work());",
        "thread::spawn"
    ));
    assert!(names("fn f(ctx: &egui::Context) {}", "egui"));
    assert!(!names("// egui draws this", "egui"));
    assert!(!names("let x = 1; // not in the core: eframe", "eframe"));
    assert!(!names("use crate::model::Layer;", "rfd"));
    assert!(!names("let regui = 1;", "egui"));
    assert!(!names("let rfd_like = 2;", "rfd"));
    assert!(names("use egui_extras::TableBuilder;", "egui_extras"));
}
