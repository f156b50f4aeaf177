//! The project file: one JSON file (format in `docs/PROJECT-FORMAT.md`) keeping the layer
//! references, their styles, the basemap choice, the view, the incidents and zones, and the
//! analysis settings.
//!
//! Saving never leaves a half-written project behind: the new content goes to a temporary
//! file in the same directory, is flushed to the disk, and only then renamed over the
//! project (a rename within a directory is atomic), after which the directory itself is
//! synced so the rename survives a power loss. The version being replaced is kept as
//! `<name>.prev`, and [`load_with_fallback`] opens it when the main file is unreadable.
//!
//! Styles and the basemap choice are stored as opaque JSON values so this core module does
//! not depend on the map crate's types; the window converts them.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{DocumentError, LonLat, ScenarioDocument};

/// The `format` marker every project file carries.
pub const FORMAT_MARKER: &str = "onemap-project";

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

/// The suggested file extension for projects (the content is JSON).
pub const EXTENSION: &str = "onemap";

/// A loaded data layer as the project remembers it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRef {
    /// Where the data is. Absolute in memory; stored relative to the project file when
    /// possible, so a folder holding project and data can move as a whole.
    pub path: PathBuf,
    pub name: String,
    pub visible: bool,
    /// The layer kind's key (`"fire_station"`, `"road"`, ...), as `model::LayerKind` spells it.
    pub kind: String,
    /// The layer's style as the map's `LayerStyle` serializes it.
    pub style: Value,
}

/// Where the map looks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct View {
    pub lon: f64,
    pub lat: f64,
    pub zoom: f64,
}

/// Settings of the analyses, kept with the work they produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    /// Response-area band limits, minutes, turnout included.
    pub bands_min: Vec<f64>,
    /// Turnout time, seconds.
    pub turnout_s: f64,
    /// Station ids marked busy.
    pub busy_stations: Vec<String>,
    /// A road speed table replacing the built-in one (same JSON as the built-in table);
    /// `None` uses the built-in table.
    pub speed_table: Option<Value>,
    /// Shelter floor area per person when a shelter gives no capacity, m².
    pub m2_per_person: f64,
    /// The daily minimum-needs profile, when edited; `None` uses the defaults.
    pub needs_profile: Option<Value>,
    /// Other settings the window keeps here; read and written back unchanged, so a newer
    /// OneMap's additions survive a round trip through an older one.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            bands_min: vec![3.0, 5.0, 8.0, 10.0],
            turnout_s: 60.0,
            busy_stations: Vec::new(),
            speed_table: None,
            m2_per_person: 2.5,
            needs_profile: None,
            other: serde_json::Map::new(),
        }
    }
}

/// Everything a project keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Project {
    /// Data layers, bottom of the drawing order first.
    pub layers: Vec<LayerRef>,
    /// The basemap choice as the map serializes it (not API keys: projects get shared).
    pub basemap: Value,
    pub view: Option<View>,
    pub scenario: ScenarioDocument,
    pub analysis: AnalysisSettings,
}

/// A layer entry as stored in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredLayer {
    /// Relative to the project file's directory when it could be, else absolute.
    path: PathBuf,
    /// The absolute path at save time, tried when `path` (relative) no longer finds the
    /// file, i.e. when the project file moved without its data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    absolute_path: Option<PathBuf>,
    name: String,
    #[serde(default = "yes")]
    visible: bool,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    style: Value,
}

fn yes() -> bool {
    true
}

/// The file's top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    format: String,
    version: u64,
    #[serde(default)]
    layers: Vec<StoredLayer>,
    #[serde(default)]
    basemap: Value,
    #[serde(default)]
    view: Option<View>,
    #[serde(default)]
    scenario: ScenarioDocument,
    #[serde(default)]
    analysis: AnalysisSettings,
}

/// Just enough of the top level to check what the file is before reading the rest.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<Value>,
}

/// What went wrong with a project file.
#[derive(Debug, thiserror::Error)]
pub enum ProjectProblem {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("cannot save it while {step}: {source}")]
    Write {
        step: &'static str,
        source: std::io::Error,
    },
    #[error("it is not valid JSON (line {line}, column {column}): {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("it ends early at line {line}, column {column}: it was cut short")]
    Truncated { line: usize, column: usize },
    #[error("it is not a OneMap project (no \"format\": \"{FORMAT_MARKER}\")")]
    NotAProject,
    #[error("it has no usable format version")]
    MissingVersion,
    #[error(
        "it has format version {found}, newer than this OneMap reads (up to {FORMAT_VERSION}): \
         update OneMap to open it"
    )]
    NewerVersion { found: u64 },
    #[error("it has unknown format version {found}")]
    UnknownVersion { found: u64 },
    #[error("line {line}, column {column}: {message}")]
    Content {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(DocumentError),
    #[error("setting out of range: {0}")]
    BadSetting(String),
    #[error("cannot write it as JSON: {0}")]
    Encode(String),
}

/// A problem with a project file, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("project file {}: {problem}", path.display())]
pub struct ProjectError {
    pub path: PathBuf,
    pub problem: ProjectProblem,
}

impl ProjectError {
    fn new(path: &Path, problem: ProjectProblem) -> ProjectError {
        ProjectError {
            path: path.to_owned(),
            problem,
        }
    }
}

/// What happened to the version a save replaced.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviousVersion {
    /// It is now `<name>.prev`.
    Kept,
    /// There was no project file before.
    NoneExisted,
    /// The old file did not load, so it did not replace a good `.prev`.
    SkippedUnreadable,
    /// Keeping it failed (the save itself succeeded); the message says why.
    Failed(String),
}

/// How a save went.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// Bytes written.
    pub bytes: usize,
    pub previous: PreviousVersion,
}

/// A project opened by [`load_with_fallback`].
#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    /// The file it came from: the project, or its `.prev`.
    pub from: PathBuf,
    /// When the main file could not be opened and `.prev` was: why the main file failed.
    pub recovered_from: Option<ProjectError>,
}

/// Neither the project nor its previous version could be opened.
#[derive(Debug, thiserror::Error)]
#[error("{main}{}", previous.as_ref().map(|p| format!("; the previous version failed too: {p}")).unwrap_or_default())]
pub struct FallbackError {
    pub main: ProjectError,
    /// `None` when there is no previous version.
    pub previous: Option<Box<ProjectError>>,
}

/// `<name>.prev` next to the project.
pub fn previous_path(path: &Path) -> PathBuf {
    with_suffix(path, ".prev")
}

/// The temporary file a save writes before renaming it over the project.
pub fn temporary_path(path: &Path) -> PathBuf {
    with_suffix(path, ".saving")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The project as the bytes [`save`] writes (pretty JSON), with layer paths made relative to
/// `project_path`'s directory where possible.
pub fn to_bytes(project: &Project, project_path: &Path) -> Result<Vec<u8>, ProjectError> {
    project
        .scenario
        .validate()
        .map_err(|e| ProjectError::new(project_path, ProjectProblem::Invalid(e)))?;
    // JSON has no NaN: serde_json would write `null`, and the file would not load again.
    check_settings(project.view.as_ref(), &project.analysis)
        .map_err(|e| ProjectError::new(project_path, e))?;
    let dir = absolute_dir_of(project_path);
    let layers = project
        .layers
        .iter()
        .map(|layer| {
            let absolute = std::path::absolute(&layer.path)
                .map(|p| normalize(&p))
                .unwrap_or_else(|_| layer.path.clone());
            let relative = dir.as_deref().and_then(|d| relative_to(&absolute, d));
            StoredLayer {
                path: relative.clone().unwrap_or_else(|| absolute.clone()),
                absolute_path: relative.map(|_| absolute),
                name: layer.name.clone(),
                visible: layer.visible,
                kind: layer.kind.clone(),
                style: layer.style.clone(),
            }
        })
        .collect();
    let stored = Stored {
        format: FORMAT_MARKER.to_owned(),
        version: FORMAT_VERSION,
        layers,
        basemap: project.basemap.clone(),
        view: project.view,
        scenario: project.scenario.clone(),
        analysis: project.analysis.clone(),
    };
    let mut bytes = serde_json::to_vec_pretty(&stored)
        .map_err(|e| ProjectError::new(project_path, ProjectProblem::Encode(e.to_string())))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a project from its bytes; `project_path` resolves relative layer paths and names
/// the file in errors.
pub fn from_bytes(bytes: &[u8], project_path: &Path) -> Result<Project, ProjectError> {
    let fail = |problem| ProjectError::new(project_path, problem);
    let header: Header = serde_json::from_slice(bytes).map_err(|e| fail(json_problem(&e)))?;
    if header.format.as_deref() != Some(FORMAT_MARKER) {
        return Err(fail(ProjectProblem::NotAProject));
    }
    let version = header
        .version
        .as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| fail(ProjectProblem::MissingVersion))?;
    if version > FORMAT_VERSION {
        return Err(fail(ProjectProblem::NewerVersion { found: version }));
    }
    if version == 0 {
        return Err(fail(ProjectProblem::UnknownVersion { found: version }));
    }
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| fail(json_problem(&e)))?;
    stored
        .scenario
        .validate()
        .map_err(|e| fail(ProjectProblem::Invalid(e)))?;
    check_settings(stored.view.as_ref(), &stored.analysis).map_err(fail)?;
    let dir = absolute_dir_of(project_path);
    let layers = stored
        .layers
        .into_iter()
        .map(|layer| LayerRef {
            path: resolve(&layer.path, layer.absolute_path.as_deref(), dir.as_deref()),
            name: layer.name,
            visible: layer.visible,
            kind: layer.kind,
            style: layer.style,
        })
        .collect();
    Ok(Project {
        layers,
        basemap: stored.basemap,
        view: stored.view,
        scenario: stored.scenario,
        analysis: stored.analysis,
    })
}

/// Checks the numbers outside the scenario: a view on the globe, positive band limits and
/// area per person, a non-negative turnout.
fn check_settings(view: Option<&View>, analysis: &AnalysisSettings) -> Result<(), ProjectProblem> {
    let bad = |what: &str, value: f64| ProjectProblem::BadSetting(format!("{what} is {value}"));
    if let Some(v) = view {
        if !LonLat::new(v.lon, v.lat).is_valid() {
            return Err(ProjectProblem::Invalid(DocumentError::BadCoordinate {
                lon: v.lon,
                lat: v.lat,
            }));
        }
        if !(v.zoom.is_finite() && (0.0..=30.0).contains(&v.zoom)) {
            return Err(bad("view zoom", v.zoom));
        }
    }
    if let Some(&b) = analysis
        .bands_min
        .iter()
        .find(|b| !(b.is_finite() && **b > 0.0))
    {
        return Err(bad("a response band (minutes)", b));
    }
    if !(analysis.turnout_s.is_finite() && analysis.turnout_s >= 0.0) {
        return Err(bad("turnout (s)", analysis.turnout_s));
    }
    if !(analysis.m2_per_person.is_finite() && analysis.m2_per_person > 0.0) {
        return Err(bad("area per person (m²)", analysis.m2_per_person));
    }
    Ok(())
}

fn json_problem(e: &serde_json::Error) -> ProjectProblem {
    let (line, column) = (e.line(), e.column());
    // The position goes in our own words; serde_json's message repeats it at the end.
    let full = e.to_string();
    let message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full)
        .to_owned();
    match e.classify() {
        serde_json::error::Category::Eof => ProjectProblem::Truncated { line, column },
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            ProjectProblem::Syntax {
                line,
                column,
                message,
            }
        }
        serde_json::error::Category::Data => ProjectProblem::Content {
            line,
            column,
            message,
        },
    }
}

/// Opens a project file.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let bytes =
        std::fs::read(path).map_err(|e| ProjectError::new(path, ProjectProblem::Read(e)))?;
    from_bytes(&bytes, path)
}

/// Opens a project file, or, when it cannot be read or is damaged, its `.prev` (saying so in
/// [`Loaded::recovered_from`]).
pub fn load_with_fallback(path: &Path) -> Result<Loaded, FallbackError> {
    let main = match load(path) {
        Ok(project) => {
            return Ok(Loaded {
                project,
                from: path.to_owned(),
                recovered_from: None,
            });
        }
        Err(e) => e,
    };
    let prev = previous_path(path);
    match load(&prev) {
        Ok(project) => Ok(Loaded {
            project,
            from: prev,
            recovered_from: Some(main),
        }),
        Err(ProjectError {
            problem: ProjectProblem::Read(e),
            ..
        }) if e.kind() == std::io::ErrorKind::NotFound => Err(FallbackError {
            main,
            previous: None,
        }),
        Err(e) => Err(FallbackError {
            main,
            previous: Some(Box::new(e)),
        }),
    }
}

/// Saves a project atomically (see the module doc), keeping the replaced version as
/// `<name>.prev`. Saves of one project must not run at the same time (they share the
/// temporary file).
pub fn save(project: &Project, path: &Path) -> Result<Saved, ProjectError> {
    let bytes = to_bytes(project, path)?;
    let write_err =
        |step| move |source| ProjectError::new(path, ProjectProblem::Write { step, source });
    let temporary = temporary_path(path);
    let written = write_synced(&temporary, &bytes);
    if let Err((step, source)) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(write_err(step)(source));
    }
    let previous = keep_previous(path);
    if let Err(e) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(write_err("renaming the new version over the old")(e));
    }
    sync_directory(path).map_err(write_err("syncing the folder"))?;
    Ok(Saved {
        bytes: bytes.len(),
        previous,
    })
}

/// Writes `bytes` to a fresh file and flushes it to the disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), (&'static str, std::io::Error)> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| ("creating the temporary file", e))?;
    file.write_all(bytes)
        .map_err(|e| ("writing the temporary file", e))?;
    file.sync_all()
        .map_err(|e| ("flushing the temporary file to disk", e))
}

/// Makes the current project file the `.prev`, if it loads (a damaged file must not push out
/// a good previous version). The project file itself stays in place throughout, so a crash
/// here leaves it as it was.
fn keep_previous(path: &Path) -> PreviousVersion {
    match load(path) {
        Ok(_) => {}
        Err(ProjectError {
            problem: ProjectProblem::Read(e),
            ..
        }) if e.kind() == std::io::ErrorKind::NotFound => return PreviousVersion::NoneExisted,
        Err(_) => return PreviousVersion::SkippedUnreadable,
    }
    let prev = previous_path(path);
    let staging = with_suffix(&prev, ".saving");
    let _ = std::fs::remove_file(&staging);
    // A hard link costs nothing and is as durable as the file; file systems without links
    // (FAT on a USB stick) get a synced copy.
    let staged = std::fs::hard_link(path, &staging).or_else(|_| {
        std::fs::copy(path, &staging)?;
        OpenOptions::new().write(true).open(&staging)?.sync_all()
    });
    let kept = staged.and_then(|()| std::fs::rename(&staging, &prev));
    match kept {
        Ok(()) => PreviousVersion::Kept,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            PreviousVersion::Failed(e.to_string())
        }
    }
}

/// Flushes the directory entry changes (the rename) of `path`'s folder.
#[cfg(unix)]
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Windows cannot open a folder as a file without extra flags; NTFS journals the rename
/// (metadata) itself.
#[cfg(not(unix))]
fn sync_directory(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The absolute, lexically normalized directory holding the project file.
fn absolute_dir_of(project_path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(project_path).ok()?;
    absolute.parent().map(normalize)
}

/// Removes `.` and resolves `..` lexically (no file system access, so symbolic links are not
/// followed: saving and loading agree because both work on the same text).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to `base_dir`, both absolute and normalized; `None` when they share no
/// root (another drive on Windows).
fn relative_to(target: &Path, base_dir: &Path) -> Option<PathBuf> {
    if !target.is_absolute() || !base_dir.is_absolute() {
        return None;
    }
    let t: Vec<Component> = target.components().collect();
    let b: Vec<Component> = base_dir.components().collect();
    let root_len = t
        .iter()
        .take_while(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        .count();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // Without a shared root (another drive on Windows) no relative path leads there.
    if root_len == 0 || common < root_len {
        return None;
    }
    let mut relative = PathBuf::new();
    for _ in common..b.len() {
        relative.push("..");
    }
    for c in &t[common..] {
        relative.push(c);
    }
    if relative.as_os_str().is_empty() {
        relative.push(".");
    }
    Some(relative)
}

/// Where a stored layer path points: relative paths from the project's directory; when that
/// finds nothing but the saved absolute path does, the absolute path.
fn resolve(stored: &Path, absolute: Option<&Path>, project_dir: Option<&Path>) -> PathBuf {
    if stored.is_absolute() {
        return stored.to_owned();
    }
    let Some(dir) = project_dir else {
        return stored.to_owned();
    };
    let from_project = normalize(&dir.join(stored));
    match absolute {
        Some(abs) if !from_project.exists() && abs.exists() => abs.to_owned(),
        _ => from_project,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::IncidentKind;
    use crate::scenario::document::{
        Incident, IncidentFields, IncidentId, LonLat, Zone, ZoneId, ZoneShape, ZoneStatus,
    };
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Panics with the first place where the two differ, not two multi-megabyte dumps.
    fn assert_same(found: &Project, expected: &Project, context: &str) {
        if found == expected {
            return;
        }
        let (a, b) = (format!("{found:?}"), format!("{expected:?}"));
        let at = a
            .char_indices()
            .zip(b.chars())
            .find(|((_, x), y)| x != y)
            .map_or(a.len().min(b.len()), |((i, _), _)| i);
        let window = |s: &str| {
            let start = s.floor_char_boundary(at.saturating_sub(150));
            let end = s.ceil_char_boundary((at + 150).min(s.len()));
            s[start..end].to_owned()
        };
        panic!(
            "{context}: projects differ at char {at}:
 found: …{}…
 expected: …{}…",
            window(&a),
            window(&b)
        );
    }

    /// A project whose every number is random, so a lossy float round trip shows.
    fn random_project(rng: &mut ChaCha8Rng, dir: &Path, incidents: usize, zones: usize) -> Project {
        let mut p = || {
            LonLat::new(
                rng.random_range(-180.0..180.0),
                rng.random_range(-90.0..90.0),
            )
        };
        let mut scenario = ScenarioDocument::new();
        for i in 0..incidents {
            scenario.incidents.push(Incident {
                id: IncidentId(i as u64 + 1),
                position: p(),
                fields: IncidentFields {
                    kind: IncidentKind::ALL[i % 8],
                    time: "2026-11-28T14:05:00+08:00".into(),
                    note: format!("第{i}号 \"note\"\n"),
                    closed: i % 3 == 0,
                    radius_m: (i % 2 == 0).then_some(1234.5678 + i as f64),
                },
            });
        }
        for z in 0..zones {
            let shape = match z % 3 {
                0 => ZoneShape::polygon((0..12).map(|_| p()).collect()),
                1 => ZoneShape::Circle {
                    centre: p(),
                    radius_m: 1000.0 / 3.0,
                },
                _ => ZoneShape::buffer("道路 G104, 200 m", (0..7).map(|_| p()).collect()),
            };
            scenario.zones.push(Zone {
                id: ZoneId(z as u64 + 1),
                name: format!("撤离区 {z}"),
                status: ZoneStatus::ALL[z % 4],
                shape,
            });
        }
        Project {
            layers: vec![
                LayerRef {
                    path: dir.join("data").join("stations.geojson"),
                    name: "消防站".into(),
                    visible: true,
                    kind: "fire_station".into(),
                    style: serde_json::json!({"fill": [200, 30, 30, 255], "width": 1.5}),
                },
                LayerRef {
                    path: dir.join("roads.shp"),
                    name: "roads".into(),
                    visible: false,
                    kind: "road".into(),
                    style: Value::Null,
                },
            ],
            basemap: serde_json::json!({"choice": "Builtin"}),
            view: Some(View {
                lon: 117.123_456_789_012_34,
                lat: 36.1,
                zoom: 13.7,
            }),
            scenario,
            analysis: AnalysisSettings {
                busy_stations: vec!["S3".into()],
                speed_table: Some(serde_json::json!({"primary": 60.0})),
                ..AnalysisSettings::default()
            },
        }
    }

    #[test]
    fn save_and_load_round_trip_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.onemap");
        for seed in 0..5 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let project = random_project(&mut rng, dir.path(), 50, 30);
            save(&project, &path).unwrap();
            assert_same(&load(&path).unwrap(), &project, &format!("seed {seed}"));
        }
        assert!(!temporary_path(&path).exists(), "no temporary file left");
    }

    #[test]
    fn layer_paths_are_stored_relative_and_resolved_on_load() {
        let root = tempfile::tempdir().unwrap();
        let project_dir = root.path().join("work").join("projects");
        std::fs::create_dir_all(&project_dir).unwrap();
        let path = project_dir.join("plan.onemap");
        let mut project = Project::default();
        for p in [
            project_dir.join("layers").join("a.geojson"),
            root.path().join("work").join("data").join("b.shp"),
        ] {
            project.layers.push(LayerRef {
                path: p,
                name: "x".into(),
                visible: true,
                kind: "generic".into(),
                style: Value::Null,
            });
        }
        save(&project, &path).unwrap();
        let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let stored: Vec<&str> = json["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["path"].as_str().unwrap())
            .collect();
        let expected_a = Path::new("layers").join("a.geojson");
        let expected_b = Path::new("..").join("data").join("b.shp");
        assert_eq!(
            stored,
            [expected_a.to_str().unwrap(), expected_b.to_str().unwrap()]
        );
        assert_same(&load(&path).unwrap(), &project, "reloaded");

        // The whole folder moves: the relative paths follow it.
        let moved_root = root.path().join("moved");
        std::fs::rename(root.path().join("work"), &moved_root).unwrap();
        let moved = load(&moved_root.join("projects").join("plan.onemap")).unwrap();
        assert_eq!(
            moved.layers[1].path,
            moved_root.join("data").join("b.shp"),
            "relative path resolved from the new place"
        );
    }

    #[test]
    fn a_project_moved_without_its_data_finds_the_data_by_absolute_path() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data.geojson");
        std::fs::write(&data, "{}").unwrap();
        let path = root.path().join("plan.onemap");
        let mut project = Project::default();
        project.layers.push(LayerRef {
            path: data.clone(),
            name: "d".into(),
            visible: true,
            kind: "generic".into(),
            style: Value::Null,
        });
        save(&project, &path).unwrap();
        let elsewhere = root.path().join("sub");
        std::fs::create_dir(&elsewhere).unwrap();
        let moved = elsewhere.join("plan.onemap");
        std::fs::copy(&path, &moved).unwrap();
        assert_eq!(load(&moved).unwrap().layers[0].path, data);
    }

    #[test]
    fn normalize_and_relative_paths() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../a")), PathBuf::from("/a"));
        assert_eq!(
            normalize(Path::new("../a/../../b")),
            PathBuf::from("../../b")
        );
        let rel = |t: &str, b: &str| relative_to(Path::new(t), Path::new(b));
        assert_eq!(rel("/a/b/c.json", "/a/b"), Some(PathBuf::from("c.json")));
        assert_eq!(
            rel("/a/x/c.json", "/a/b/d"),
            Some(PathBuf::from("../../x/c.json"))
        );
        assert_eq!(rel("/a/b", "/a/b"), Some(PathBuf::from(".")));
        assert_eq!(rel("a/b", "/a"), None);
    }

    #[test]
    fn damaged_files_give_errors_naming_file_and_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.onemap");
        let cases: [(&str, &str); 6] = [
            (
                "{\"format\": \"onemap-project\", \"version\": 1, \"layers\": [",
                "cut short",
            ),
            (
                "{\"format\": \"onemap-project\", \"version\": 1,, }",
                "not valid JSON",
            ),
            ("{\"type\": \"FeatureCollection\"}", "not a OneMap project"),
            (
                "{\"format\": \"onemap-project\", \"version\": 7}",
                "version 7, newer",
            ),
            (
                "{\"format\": \"onemap-project\"}",
                "no usable format version",
            ),
            (
                "{\"format\": \"onemap-project\", \"version\": 1, \"scenario\": {\"zones\": \
                 [{\"id\": 4, \"name\": \"z\", \"shape\": {\"type\": \"polygon\", \"ring\": \
                 [[1, 1], [2, 2]]}}]}}",
                "zone 4",
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(&path, text).unwrap();
            let message = load(&path).unwrap_err().to_string();
            assert!(message.contains("bad.onemap"), "{message}");
            assert!(message.contains(expected), "{message} lacks {expected:?}");
        }
        std::fs::write(
            &path,
            "{\"format\": \"onemap-project\", \"version\": 1, \"view\": 3}",
        )
        .unwrap();
        let message = load(&path).unwrap_err().to_string();
        assert!(
            message.ends_with("line 1, column 52: invalid type: integer `3`, expected struct View"),
            "{message}"
        );
        let missing = load(&dir.path().join("none.onemap")).unwrap_err();
        assert!(matches!(missing.problem, ProjectProblem::Read(_)));
    }

    #[test]
    fn a_damaged_main_file_falls_back_to_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.onemap");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let first = random_project(&mut rng, dir.path(), 3, 3);
        let second = random_project(&mut rng, dir.path(), 4, 2);
        assert_eq!(
            save(&first, &path).unwrap().previous,
            PreviousVersion::NoneExisted
        );
        assert_eq!(
            save(&second, &path).unwrap().previous,
            PreviousVersion::Kept
        );
        assert_same(&load(&previous_path(&path)).unwrap(), &first, ".prev");

        let loaded = load_with_fallback(&path).unwrap();
        assert_same(&loaded.project, &second, "main");
        assert!(loaded.recovered_from.is_none());

        // Damage the main file: half of it is gone.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let loaded = load_with_fallback(&path).unwrap();
        assert_same(&loaded.project, &first, "fallback");
        assert_eq!(loaded.from, previous_path(&path));
        let why = loaded.recovered_from.unwrap().to_string();
        assert!(
            why.contains("plan.onemap") && why.contains("cut short"),
            "{why}"
        );

        // Saving over a damaged file keeps the good .prev.
        assert_eq!(
            save(&second, &path).unwrap().previous,
            PreviousVersion::SkippedUnreadable
        );
        assert_same(&load(&previous_path(&path)).unwrap(), &first, ".prev");

        // Both gone: the error names both.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(previous_path(&path), "garbage").unwrap();
        let err = load_with_fallback(&path).unwrap_err();
        assert!(err.previous.is_some());
        assert!(err.to_string().contains("plan.onemap.prev"), "{err}");
        std::fs::remove_file(previous_path(&path)).unwrap();
        assert!(load_with_fallback(&path).unwrap_err().previous.is_none());
    }

    #[test]
    fn the_documented_example_loads() {
        let doc = include_str!("../../docs/PROJECT-FORMAT.md");
        let example = doc
            .split("```json")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .unwrap();
        let project_path = Path::new("/home/planner/zhoucun/plan.onemap");
        let project = from_bytes(example.as_bytes(), project_path).unwrap();
        assert_eq!(
            project.layers[0].path,
            PathBuf::from("/home/planner/zhoucun/data/fire_stations.geojson")
        );
        assert_eq!(
            project.layers[1].path,
            PathBuf::from("/home/planner/shared/roads.shp")
        );
        assert!(!project.layers[1].visible);
        assert_eq!(project.scenario.incidents[0].radius_m(), 1500.0);
        let kinds: Vec<&str> = project
            .scenario
            .zones
            .iter()
            .map(|z| match z.shape {
                ZoneShape::Polygon { .. } => "polygon",
                ZoneShape::Circle { .. } => "circle",
                ZoneShape::Buffer { .. } => "buffer",
            })
            .collect();
        assert_eq!(kinds, ["polygon", "circle", "buffer"]);
        assert_eq!(project.scenario.zones[1].status, ZoneStatus::InProgress);
        assert_eq!(project.analysis.busy_stations, ["FS-02"]);
        // Writing it back and reading again changes nothing.
        let bytes = to_bytes(&project, project_path).unwrap();
        assert_same(
            &from_bytes(&bytes, project_path).unwrap(),
            &project,
            "rewritten",
        );
    }

    #[test]
    fn unknown_analysis_settings_survive_a_round_trip() {
        let text = r#"{"format": "onemap-project", "version": 1,
            "analysis": {"turnout_s": 90, "future_option": {"a": [1, 2]}}}"#;
        let path = Path::new("/p/plan.onemap");
        let project = from_bytes(text.as_bytes(), path).unwrap();
        assert_eq!(project.analysis.turnout_s, 90.0);
        assert_eq!(
            project.analysis.m2_per_person, 2.5,
            "missing keys take defaults"
        );
        let again = from_bytes(&to_bytes(&project, path).unwrap(), path).unwrap();
        assert_eq!(
            again.analysis.other.get("future_option"),
            Some(&serde_json::json!({"a": [1, 2]}))
        );
    }

    #[test]
    fn an_invalid_document_is_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.onemap");
        let mut project = Project::default();
        project.scenario.incidents.push(Incident {
            id: IncidentId(1),
            position: LonLat::new(f64::NAN, 0.0),
            fields: IncidentFields {
                kind: IncidentKind::Fire,
                time: "2026-11-28".into(),
                note: String::new(),
                closed: false,
                radius_m: None,
            },
        });
        assert!(matches!(
            save(&project, &path).unwrap_err().problem,
            ProjectProblem::Invalid(_)
        ));
        assert!(!path.exists());
        let mut project = Project {
            view: Some(View {
                lon: 117.0,
                lat: 36.0,
                zoom: f64::NAN,
            }),
            ..Project::default()
        };
        let err = save(&project, &path).unwrap_err().to_string();
        assert!(err.contains("view zoom is NaN"), "{err}");
        project.view = None;
        project.analysis.bands_min.push(f64::INFINITY);
        assert!(save(&project, &path).is_err());
        project.analysis.bands_min.pop();
        project.analysis.m2_per_person = 0.0;
        assert!(save(&project, &path).is_err());
        assert!(!path.exists(), "nothing unloadable was written");
        assert!(!temporary_path(&path).exists());
    }

    const CRASH_DIR_ENV: &str = "ONEMAP_TEST_CRASH_WRITER_DIR";
    const CRASH_START_ENV: &str = "ONEMAP_TEST_CRASH_WRITER_START";
    const CRASH_CHILD: &str = "scenario::project::tests::crash_writer_child";

    /// Version `generation` of a large project (a few MB), reproducible from the number, which
    /// it also carries in its view zoom.
    fn crash_version(generation: u64, dir: &Path) -> Project {
        let mut rng = ChaCha8Rng::seed_from_u64(generation);
        let mut project = random_project(&mut rng, dir, 4000, 600);
        project.view = Some(View {
            lon: 117.0,
            lat: 36.0,
            zoom: generation as f64,
        });
        project
    }

    fn generation_of(project: &Project) -> u64 {
        project.view.map_or(u64::MAX, |v| v.zoom as u64)
    }

    /// The writer that the crash test kills: saves successive versions until killed, saying
    /// on stdout after each one. Does nothing unless the crash test started it.
    #[test]
    #[ignore = "child process of crash_mid_save_leaves_a_loadable_project"]
    fn crash_writer_child() {
        let Ok(dir) = std::env::var(CRASH_DIR_ENV) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let start: u64 = std::env::var(CRASH_START_ENV).unwrap().parse().unwrap();
        let path = dir.join("crash.onemap");
        for generation in start.. {
            save(&crash_version(generation, &dir), &path).unwrap();
            // Straight to stdout: the test harness captures only the print macros.
            let mut out = std::io::stdout().lock();
            writeln!(out, "saved {generation}").unwrap();
            out.flush().unwrap();
        }
    }

    /// Kills the child when dropped, so a failing assertion leaves no writer behind.
    struct KillOnDrop(std::process::Child);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn crash_mid_save_leaves_a_loadable_project() {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crash.onemap");
        save(&crash_version(0, dir.path()), &path).unwrap();
        let exe = std::env::current_exe().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut newest = 0;
        let (mut kills, mut mid_write_kills) = (0, 0);
        while kills < 40 && !(kills >= 6 && mid_write_kills >= 3) {
            let mut child = KillOnDrop(
                std::process::Command::new(&exe)
                    .args([CRASH_CHILD, "--exact", "--ignored", "--test-threads=1"])
                    .env(CRASH_DIR_ENV, dir.path())
                    .env(CRASH_START_ENV, (newest + 1).to_string())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            // Wait for its first save, so the kill lands in the save loop, not at start-up.
            let mut lines = std::io::BufReader::new(child.0.stdout.take().unwrap()).lines();
            let first = lines.find(|line| line.as_ref().map_or(true, |l| l.starts_with("saved")));
            assert!(
                matches!(first, Some(Ok(_))),
                "the writer stopped before its first save"
            );
            let wait_ms = rng.random_range(0..250);
            std::thread::sleep(std::time::Duration::from_millis(wait_ms));
            drop(child);
            kills += 1;
            if temporary_path(&path).exists() {
                mid_write_kills += 1;
            }
            let project = load(&path).unwrap_or_else(|e| panic!("after kill {kills}: {e}"));
            let generation = generation_of(&project);
            assert!(generation >= newest, "the project went back in time");
            let expected = crash_version(generation, dir.path());
            assert_same(&project, &expected, &format!("kill {kills}"));
            let prev = load(&previous_path(&path));
            if generation > 0 {
                let prev = prev.unwrap_or_else(|e| panic!("after kill {kills}: {e}"));
                let prev_generation = generation_of(&prev);
                assert!(prev_generation <= generation);
                assert_same(
                    &prev,
                    &crash_version(prev_generation, dir.path()),
                    &format!(".prev after kill {kills}"),
                );
            }
            newest = generation;
        }
        eprintln!("{kills} kills, {mid_write_kills} during a save, reached version {newest}");
        assert!(mid_write_kills >= 1, "no kill landed during a save");
        assert!(newest >= kills, "every writer finished at least one save");
    }
}
