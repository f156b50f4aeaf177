//! Raster basemaps for the walkers map: OpenStreetMap, any XYZ URL template, Tianditu
//! (base + labels), a PMTiles file or a local tile folder; their attribution; and how tile
//! failures are noticed and retried. The built-in vector basemap is drawn by the map view
//! itself whenever [`Basemaps::shows_builtin`] is true.
//!
//! ```no_run
//! # use onemap::map::basemap::{Basemaps, BasemapSettings};
//! # fn frame(ui: &mut egui::Ui, settings: &BasemapSettings, memory: &mut walkers::MapMemory) {
//! // once, at start-up (settings come from eframe storage):
//! let mut basemaps = Basemaps::new(ui.ctx(), Some("/home/me/.cache/onemap".into()));
//! let _ = basemaps.set_choice(&settings.choice, ui.ctx()); // a problem is also kept as status
//! // every frame:
//! let builtin = basemaps.shows_builtin(); // draw the vector basemap plugin when true
//! let mut map = walkers::Map::new(None, memory, walkers::lon_lat(117.87, 36.80));
//! for layer in basemaps.tile_layers() { map = map.with_layer(layer, 1.0); }
//! let rect = ui.add(map).rect;
//! basemaps.draw_overlays(ui, rect, onemap::i18n::Lang::Zh); // attribution + failure badge
//! # }
//! ```
//!
//! # Noticing failed tiles
//! walkers gives no failure signal: a tile that fails to download is logged, stored as
//! "absent" in its cache and never asked for again, and `Tiles::stats` only counts tiles in
//! flight. So each HTTP layer is wrapped in a watcher that sees every `at()` call: a visible
//! tile that is still not there in full (walkers returns a cropped lower-zoom tile or nothing)
//! when nothing is downloading and `failure_grace` has passed since it was first asked for
//! (or 4 x `failure_grace` even while downloads are still running: hung connections) is
//! counted as failed. The count is sticky until the tile shows up or the source is rebuilt
//! with [`Basemaps::reload`], which is what the "reload tiles" button does (successful tiles
//! come back from the disk cache). Tile folders report read/decode failures directly; a
//! PMTiles file is checked (magic, version, raster tile type) when chosen, since tiles it
//! does not contain are normal and not failures.
//!
//! Dropping a walkers HTTP source joins its tokio thread, which can wait for a DNS lookup
//! when offline; replaced sources are therefore dropped on a short-lived thread, so
//! switching or reloading never freezes the window.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::{Align2, Color32, Context, FontId, Rect, Sense, Ui, vec2};
use serde::{Deserialize, Serialize};
use walkers::sources::{Attribution, TileSource};
use walkers::{HeaderValue, HttpOptions, HttpTiles, PmTiles, Stats, TileId, TilePiece, Tiles};

use crate::i18n::Lang;
use crate::map::tile_folder::{TileFolder, TileFolderError, ancestor_piece};

/// Sent with every tile request, as the OSM tile usage policy asks.
pub const USER_AGENT: &str = concat!("OneMap/", env!("CARGO_PKG_VERSION"));

/// How long a visible tile may stay missing, with nothing downloading, before it counts as
/// failed.
pub const DEFAULT_FAILURE_GRACE: Duration = Duration::from_secs(6);

/// Tianditu's deepest Web Mercator level.
const TIANDITU_MAX_ZOOM: u8 = 18;

/// The basemap the user picked; persisted in [`BasemapSettings`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub enum BasemapChoice {
    /// The project's own vector basemap, drawn by the map view; needs no network.
    #[default]
    Builtin,
    /// tile.openstreetmap.org, with the on-disk HTTP cache.
    OpenStreetMap,
    /// Any XYZ template: `{z}`, `{x}`, `{y}` (or `{-y}` for TMS), optional `{s}` (a, b, c)
    /// or a one-character range such as `{0-7}` for subdomains.
    Xyz { url: String, attribution: String },
    /// Tianditu Web Mercator tiles, vector (`vec_w` + `cva_w`) or imagery (`img_w` + `cia_w`).
    Tianditu { key: String, imagery: bool },
    /// A raster PMTiles file.
    PmTiles { path: PathBuf },
    /// A local `{z}/{x}/{y}.png|jpg|jpeg|webp` folder.
    TileFolder { path: PathBuf },
}

/// A user XYZ source remembered for the switcher.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct XyzEntry {
    /// The URL template.
    pub url: String,
    /// Attribution text typed with it.
    pub attribution: String,
}

/// Basemap settings kept between runs (the app stores them with eframe persistence).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default)]
pub struct BasemapSettings {
    /// The basemap shown.
    pub choice: BasemapChoice,
    /// XYZ templates used before, most recent first.
    pub recent_xyz: Vec<XyzEntry>,
    /// The XYZ template being edited in the switcher.
    pub xyz_draft: XyzEntry,
    /// The user's Tianditu key (stored in plain text with the other settings).
    pub tianditu_key: String,
    /// Tianditu imagery instead of the vector map.
    pub tianditu_imagery: bool,
    /// The PMTiles path typed or picked in the switcher (typing is the fallback when no
    /// file dialog is available, e.g. Linux without an xdg desktop portal).
    pub pmtiles_draft: String,
    /// The tile folder path typed or picked in the switcher.
    pub folder_draft: String,
}

/// How many XYZ templates are remembered.
const RECENT_XYZ_LIMIT: usize = 8;

impl Default for BasemapSettings {
    fn default() -> Self {
        Self {
            choice: BasemapChoice::Builtin,
            recent_xyz: Vec::new(),
            xyz_draft: XyzEntry::default(),
            tianditu_key: String::new(),
            tianditu_imagery: false,
            pmtiles_draft: String::new(),
            folder_draft: String::new(),
            // The XYZ default stays empty: no third-party server is contacted unless asked.
        }
    }
}

impl BasemapSettings {
    /// Makes `choice` current and remembers its URL or key for next time.
    pub fn apply(&mut self, choice: &BasemapChoice) {
        match choice {
            BasemapChoice::Xyz { url, attribution } => {
                let entry = XyzEntry {
                    url: url.clone(),
                    attribution: attribution.clone(),
                };
                self.recent_xyz.retain(|e| e.url != entry.url);
                self.recent_xyz.insert(0, entry.clone());
                self.recent_xyz.truncate(RECENT_XYZ_LIMIT);
                self.xyz_draft = entry;
            }
            BasemapChoice::Tianditu { key, imagery } => {
                self.tianditu_key = key.clone();
                self.tianditu_imagery = *imagery;
            }
            BasemapChoice::PmTiles { path } => self.pmtiles_draft = path.display().to_string(),
            BasemapChoice::TileFolder { path } => self.folder_draft = path.display().to_string(),
            BasemapChoice::Builtin | BasemapChoice::OpenStreetMap => {}
        }
        self.choice = choice.clone();
    }
}

/// What is wrong with a URL template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// Not an `http://` or `https://` URL.
    #[error("the URL must start with http:// or https://")]
    NotHttp,
    /// `{z}`, `{x}` or `{y}` is missing.
    #[error("the URL has no {0}")]
    MissingPlaceholder(&'static str),
    /// A `{...}` that is not understood.
    #[error("unknown placeholder {0}")]
    UnknownPlaceholder(String),
}

impl TemplateError {
    /// The reason, for the user, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            TemplateError::NotHttp => lang
                .pick(
                    "须以 http:// 或 https:// 开头",
                    "must start with http:// or https://",
                )
                .to_owned(),
            TemplateError::MissingPlaceholder(p) => {
                format!("{} {p}", lang.pick("缺少", "missing"))
            }
            TemplateError::UnknownPlaceholder(p) => {
                format!(
                    "{} {p}",
                    lang.pick("无法识别的占位符", "unknown placeholder")
                )
            }
        }
    }
}

/// Why a basemap choice could not be used (the map falls back to the built-in basemap).
#[derive(Debug, Clone, PartialEq)]
pub enum BasemapProblem {
    /// The XYZ template is not usable.
    BadTemplate {
        template: String,
        error: TemplateError,
    },
    /// The Tianditu key is empty.
    MissingKey,
    /// The Tianditu key has characters a key never has.
    BadKey,
    /// The chosen file or folder does not exist.
    NotFound(PathBuf),
    /// The file is not a PMTiles v3 archive, or cannot be read.
    NotPmTiles { path: PathBuf, reason: String },
    /// The PMTiles file holds vector (MVT) or AVIF tiles, which this build cannot draw.
    UnsupportedPmTiles { path: PathBuf, tile_type: String },
    /// The folder is not a z/x/y tile folder.
    NotATileFolder(TileFolderError),
}

impl BasemapProblem {
    /// The message for the user, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            BasemapProblem::BadTemplate { template, error } => format!(
                "{} {template}: {}",
                lang.pick("瓦片地址模板无效", "Invalid tile URL template"),
                error.message(lang)
            ),
            BasemapProblem::MissingKey => lang
                .pick("请输入天地图 Key", "Enter a Tianditu key")
                .to_owned(),
            BasemapProblem::BadKey => lang
                .pick(
                    "天地图 Key 只能包含字母和数字",
                    "A Tianditu key has only letters and digits",
                )
                .to_owned(),
            BasemapProblem::NotFound(path) => {
                format!("{}: {}", lang.pick("找不到", "Not found"), path.display())
            }
            BasemapProblem::NotPmTiles { path, reason } => format!(
                "{}: {} ({reason})",
                path.display(),
                lang.pick("不是可用的 PMTiles v3 文件", "not a usable PMTiles v3 file")
            ),
            BasemapProblem::UnsupportedPmTiles { path, tile_type } => format!(
                "{}: {} {tile_type}{}",
                path.display(),
                lang.pick("瓦片类型为", "holds"),
                lang.pick(
                    "，仅支持栅格 PNG/JPEG/WebP",
                    " tiles; only raster PNG/JPEG/WebP are supported"
                )
            ),
            BasemapProblem::NotATileFolder(error) => {
                let (path, reason) = match error {
                    TileFolderError::NotAFolder(p) => (p, lang.pick("不是文件夹", "not a folder")),
                    TileFolderError::NoZoomLevels(p) => (
                        p,
                        lang.pick(
                            "没有 0、1、2… 级别子文件夹",
                            "no zoom-level subfolders (0, 1, 2, ...)",
                        ),
                    ),
                };
                format!("{}: {reason}", path.display())
            }
        }
    }
}

/// A parsed XYZ URL template.
#[derive(Debug, Clone, PartialEq)]
pub struct UrlTemplate {
    template: String,
    subdomains: Vec<String>,
    /// The exact `{...}` text replaced by a subdomain.
    subdomain_placeholder: Option<String>,
}

impl UrlTemplate {
    /// Checks a template: http(s), with `{z}`, `{x}` and `{y}` or `{-y}`; `{s}` means
    /// subdomains a, b, c; `{0-7}` or `{a-d}` a range of one-character subdomains; `{r}`
    /// (retina suffix) becomes empty.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let template = template.trim();
        let lower = template.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(TemplateError::NotHttp);
        }
        let mut subdomains = Vec::new();
        let mut subdomain_placeholder = None;
        let (mut has_z, mut has_x, mut has_y) = (false, false, false);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err(TemplateError::UnknownPlaceholder(after.to_owned()));
            };
            let name = &after[..close];
            match name {
                "z" => has_z = true,
                "x" => has_x = true,
                "y" | "-y" => has_y = true,
                "r" => {}
                "s" => {
                    subdomains = ["a", "b", "c"].map(String::from).to_vec();
                    subdomain_placeholder = Some("{s}".to_owned());
                }
                _ => match one_char_range(name) {
                    Some(range) => {
                        subdomains = range;
                        subdomain_placeholder = Some(format!("{{{name}}}"));
                    }
                    None => return Err(TemplateError::UnknownPlaceholder(format!("{{{name}}}"))),
                },
            }
            rest = &after[close + 1..];
        }
        for (present, name) in [(has_z, "{z}"), (has_x, "{x}"), (has_y, "{y}")] {
            if !present {
                return Err(TemplateError::MissingPlaceholder(name));
            }
        }
        Ok(Self {
            template: template.to_owned(),
            subdomains,
            subdomain_placeholder,
        })
    }

    /// The template as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The URL of one tile. The subdomain depends only on the tile, so the HTTP cache hits.
    pub fn url(&self, tile_id: TileId) -> String {
        let flipped_y = (1u32 << tile_id.zoom)
            .saturating_sub(1)
            .saturating_sub(tile_id.y);
        let mut url = self
            .template
            .replace("{z}", &tile_id.zoom.to_string())
            .replace("{x}", &tile_id.x.to_string())
            .replace("{-y}", &flipped_y.to_string())
            .replace("{y}", &tile_id.y.to_string())
            .replace("{r}", "");
        if let Some(placeholder) = &self.subdomain_placeholder
            && !self.subdomains.is_empty()
        {
            let index = (tile_id.x as usize + tile_id.y as usize) % self.subdomains.len();
            url = url.replace(placeholder.as_str(), &self.subdomains[index]);
        }
        url
    }
}

/// `0-7` -> ["0", ..., "7"]; `a-c` -> ["a", "b", "c"].
fn one_char_range(name: &str) -> Option<Vec<String>> {
    let mut chars = name.chars();
    let (first, dash, last) = (chars.next()?, chars.next()?, chars.next()?);
    if chars.next().is_some() || dash != '-' || !first.is_ascii_alphanumeric() || first > last {
        return None;
    }
    if !last.is_ascii_alphanumeric() || first.is_ascii_digit() != last.is_ascii_digit() {
        return None;
    }
    Some((first..=last).map(String::from).collect())
}

/// The Tianditu Web Mercator template for one layer (`vec`, `cva`, `img`, `cia`).
pub fn tianditu_template(layer: &str, key: &str) -> String {
    format!(
        "http://t{{0-7}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile\
         &VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles\
         &TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
    )
}

/// A walkers `TileSource` over a [`UrlTemplate`].
struct TemplateSource {
    template: UrlTemplate,
    max_zoom: u8,
}

impl TileSource for TemplateSource {
    fn tile_url(&self, tile_id: TileId) -> String {
        self.template.url(tile_id)
    }

    fn attribution(&self) -> Attribution {
        drawn_by_onemap()
    }

    fn max_zoom(&self) -> u8 {
        self.max_zoom
    }
}

/// What the PMTiles header says, as far as OneMap needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PmTilesHeader {
    /// 0 unknown, 1 MVT, 2 PNG, 3 JPEG, 4 WebP, 5 AVIF.
    pub tile_type: u8,
    /// Zoom levels present.
    pub min_zoom: u8,
    /// Zoom levels present.
    pub max_zoom: u8,
}

/// Reads the fixed 127-byte PMTiles v3 header.
pub fn read_pmtiles_header(path: &Path) -> Result<PmTilesHeader, BasemapProblem> {
    use std::io::Read;
    if !path.exists() {
        return Err(BasemapProblem::NotFound(path.to_path_buf()));
    }
    let not_pmtiles = |reason: String| BasemapProblem::NotPmTiles {
        path: path.to_path_buf(),
        reason,
    };
    let mut header = [0u8; 127];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .map_err(|e| not_pmtiles(e.to_string()))?;
    if &header[..7] != b"PMTiles" {
        return Err(not_pmtiles("no PMTiles magic bytes".to_owned()));
    }
    if header[7] != 3 {
        return Err(not_pmtiles(format!("version {}, not 3", header[7])));
    }
    Ok(PmTilesHeader {
        tile_type: header[99],
        min_zoom: header[100],
        max_zoom: header[101],
    })
}

/// One drawable tile layer, with what is needed to notice its failures.
enum Source {
    Http(HttpTiles),
    PmTiles(PmTiles),
    Folder(TileFolder),
}

/// A tile layer as handed to walkers: delegates to the source and watches what it returns.
pub struct BasemapLayer {
    source: Source,
    attribution: (String, Option<String>),
    watch: Option<FailureWatch>,
}

impl BasemapLayer {
    fn tiles(&self) -> &dyn Tiles {
        match &self.source {
            Source::Http(t) => t,
            Source::PmTiles(t) => t,
            Source::Folder(t) => t,
        }
    }

    fn tiles_mut(&mut self) -> &mut dyn Tiles {
        match &mut self.source {
            Source::Http(t) => t,
            Source::PmTiles(t) => t,
            Source::Folder(t) => t,
        }
    }

    fn failed_count(&self) -> usize {
        match (&self.source, &self.watch) {
            (Source::Folder(folder), _) => folder.failed_count(),
            (_, Some(watch)) => watch.failed.len(),
            _ => 0,
        }
    }
}

impl Tiles for BasemapLayer {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        let piece = self.tiles_mut().at(tile_id);
        if let Some(watch) = &mut self.watch {
            watch.observe(
                tile_id,
                piece.as_ref().map(|p| p.uv.width()),
                Instant::now(),
            );
        }
        piece
    }

    fn attribution(&self) -> Attribution {
        self.tiles().attribution()
    }

    fn tile_size(&self) -> u32 {
        self.tiles().tile_size()
    }

    fn stats(&self) -> Stats {
        self.tiles().stats()
    }
}

/// Tiles seen missing, keyed by the tile actually downloaded (zooms past the source's
/// deepest level share their ancestor).
struct FailureWatch {
    max_zoom: u8,
    /// First and latest time each missing tile was asked for.
    waiting: HashMap<TileId, (Instant, Instant)>,
    failed: HashSet<TileId>,
}

/// Bound on remembered tiles, so a long session cannot grow these sets without limit.
const WATCH_LIMIT: usize = 4096;

impl FailureWatch {
    fn new(max_zoom: u8) -> Self {
        Self {
            max_zoom,
            waiting: HashMap::new(),
            failed: HashSet::new(),
        }
    }

    /// `uv_width` is the width of the returned piece's uv: 1 for the tile itself, smaller
    /// when walkers fell back on a zoomed-out tile.
    fn observe(&mut self, tile_id: TileId, uv_width: Option<f32>, now: Instant) {
        let fetched_zoom = tile_id.zoom.min(self.max_zoom);
        let (fetched, full_uv) = ancestor_piece(tile_id, fetched_zoom);
        let complete = uv_width.is_some_and(|w| (w - full_uv.width()).abs() < 1e-6);
        if complete {
            self.waiting.remove(&fetched);
            self.failed.remove(&fetched);
        } else if !self.failed.contains(&fetched) && self.waiting.len() < WATCH_LIMIT {
            self.waiting.entry(fetched).or_insert((now, now)).1 = now;
        }
    }

    /// Moves long-missing tiles to `failed`; forgets tiles no longer on screen.
    fn update(&mut self, now: Instant, in_progress: usize, grace: Duration) {
        self.waiting
            .retain(|_, (_, last)| now.duration_since(*last) <= grace.max(Duration::from_secs(1)));
        let newly_failed: Vec<TileId> = self
            .waiting
            .iter()
            .filter(|(_, (first, _))| {
                let missing_for = now.duration_since(*first);
                (in_progress == 0 && missing_for >= grace) || missing_for >= grace * 4
            })
            .map(|(id, _)| *id)
            .collect();
        for tile_id in newly_failed {
            self.waiting.remove(&tile_id);
            if self.failed.len() < WATCH_LIMIT {
                self.failed.insert(tile_id);
            }
        }
    }
}

/// The raster basemap at run time: builds walkers tile sources from a [`BasemapChoice`],
/// hands them to the map, draws attribution and reports failures. See the module docs.
pub struct Basemaps {
    ctx: Context,
    cache_dir: Option<PathBuf>,
    choice: BasemapChoice,
    layers: Vec<BasemapLayer>,
    problem: Option<BasemapProblem>,
    failure_grace: Duration,
    /// The failure badge was closed; it comes back after a switch or a reload.
    badge_dismissed: bool,
}

impl Basemaps {
    /// Starts with the built-in basemap. HTTP tiles are cached under `cache_dir/tiles-http`
    /// when a cache directory is given.
    pub fn new(ctx: &Context, cache_dir: Option<PathBuf>) -> Self {
        Self {
            ctx: ctx.clone(),
            cache_dir,
            choice: BasemapChoice::Builtin,
            layers: Vec::new(),
            problem: None,
            failure_grace: DEFAULT_FAILURE_GRACE,
            badge_dismissed: false,
        }
    }

    /// Changes how long a tile may stay missing before it counts as failed (tests use less).
    pub fn set_failure_grace(&mut self, grace: Duration) {
        self.failure_grace = grace;
    }

    /// The choice last given to [`Basemaps::set_choice`], even if it could not be used.
    pub fn choice(&self) -> &BasemapChoice {
        &self.choice
    }

    /// True when no raster tiles are drawn: the built-in choice, or a choice that failed.
    pub fn shows_builtin(&self) -> bool {
        self.layers.is_empty()
    }

    /// Why the current choice could not be used, if it could not.
    pub fn problem(&self) -> Option<&BasemapProblem> {
        self.problem.as_ref()
    }

    /// Builds the tile sources for `choice`. On a problem the map shows the built-in
    /// basemap, and the problem is kept for the status line as well as returned.
    pub fn set_choice(
        &mut self,
        choice: &BasemapChoice,
        ctx: &Context,
    ) -> Result<(), BasemapProblem> {
        self.ctx = ctx.clone();
        self.choice = choice.clone();
        self.badge_dismissed = false;
        retire(std::mem::take(&mut self.layers));
        let built = self.build(choice);
        match built {
            Ok(layers) => {
                self.layers = layers;
                self.problem = None;
                Ok(())
            }
            Err(problem) => {
                self.problem = Some(problem.clone());
                Err(problem)
            }
        }
    }

    /// Rebuilds the current sources, so failed tiles are asked for again.
    pub fn reload(&mut self) -> Result<(), BasemapProblem> {
        let choice = self.choice.clone();
        let ctx = self.ctx.clone();
        self.set_choice(&choice, &ctx)
    }

    fn build(&self, choice: &BasemapChoice) -> Result<Vec<BasemapLayer>, BasemapProblem> {
        match choice {
            BasemapChoice::Builtin => Ok(Vec::new()),
            BasemapChoice::OpenStreetMap => {
                let template = UrlTemplate::parse("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
                    .map_err(|error| BasemapProblem::BadTemplate {
                        template: "openstreetmap".into(),
                        error,
                    })?;
                Ok(vec![self.http_layer(
                    template,
                    19,
                    (
                        "© OpenStreetMap contributors".into(),
                        Some("https://www.openstreetmap.org/copyright".into()),
                    ),
                )])
            }
            BasemapChoice::Xyz { url, attribution } => {
                let template =
                    UrlTemplate::parse(url).map_err(|error| BasemapProblem::BadTemplate {
                        template: url.clone(),
                        error,
                    })?;
                let text = if attribution.trim().is_empty() {
                    host_of(url).to_owned()
                } else {
                    attribution.trim().to_owned()
                };
                Ok(vec![self.http_layer(template, 19, (text, None))])
            }
            BasemapChoice::Tianditu { key, imagery } => {
                let key = key.trim();
                if key.is_empty() {
                    return Err(BasemapProblem::MissingKey);
                }
                if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(BasemapProblem::BadKey);
                }
                let (base, labels) = if *imagery {
                    ("img", "cia")
                } else {
                    ("vec", "cva")
                };
                let attribution = (
                    "© 天地图 Tianditu".to_owned(),
                    Some("https://www.tianditu.gov.cn".to_owned()),
                );
                [base, labels]
                    .into_iter()
                    .map(|layer| {
                        let template = tianditu_template(layer, key);
                        UrlTemplate::parse(&template)
                            .map(|t| self.http_layer(t, TIANDITU_MAX_ZOOM, attribution.clone()))
                            .map_err(|error| BasemapProblem::BadTemplate { template, error })
                    })
                    .collect()
            }
            BasemapChoice::PmTiles { path } => {
                let header = read_pmtiles_header(path)?;
                let tile_type = match header.tile_type {
                    1 => Some("MVT (vector)"),
                    5 => Some("AVIF"),
                    _ => None,
                };
                if let Some(tile_type) = tile_type {
                    return Err(BasemapProblem::UnsupportedPmTiles {
                        path: path.clone(),
                        tile_type: tile_type.to_owned(),
                    });
                }
                // `Style` is a unit struct only while walkers' `vector` feature is off.
                #[allow(clippy::default_constructed_unit_structs)]
                let tiles = PmTiles::with_style_and_tile_size(
                    path,
                    walkers::Style::default(),
                    256,
                    self.ctx.clone(),
                );
                Ok(vec![BasemapLayer {
                    source: Source::PmTiles(tiles),
                    attribution: (format!("PMTiles: {}", file_name(path)), None),
                    watch: None,
                }])
            }
            BasemapChoice::TileFolder { path } => {
                if !path.exists() {
                    return Err(BasemapProblem::NotFound(path.clone()));
                }
                let folder =
                    TileFolder::open(path, &self.ctx).map_err(BasemapProblem::NotATileFolder)?;
                let text = folder_attribution(path);
                Ok(vec![BasemapLayer {
                    source: Source::Folder(folder),
                    attribution: (text, None),
                    watch: None,
                }])
            }
        }
    }

    fn http_layer(
        &self,
        template: UrlTemplate,
        max_zoom: u8,
        attribution: (String, Option<String>),
    ) -> BasemapLayer {
        let options = HttpOptions {
            cache: self.cache_dir.as_ref().map(|dir| dir.join("tiles-http")),
            user_agent: Some(HeaderValue::from_static(USER_AGENT)),
            ..Default::default()
        };
        let source = TemplateSource { template, max_zoom };
        BasemapLayer {
            source: Source::Http(HttpTiles::with_options(source, options, self.ctx.clone())),
            attribution,
            watch: Some(FailureWatch::new(max_zoom)),
        }
    }

    /// The layers for `walkers::Map::with_layer`, base first, then labels; empty when the
    /// built-in basemap is shown. Call once per frame: it also updates the failure count.
    pub fn tile_layers(&mut self) -> Vec<&mut dyn Tiles> {
        self.update_failures();
        self.layers
            .iter_mut()
            .map(|layer| layer as &mut dyn Tiles)
            .collect()
    }

    fn update_failures(&mut self) {
        let now = Instant::now();
        let mut still_waiting = false;
        for layer in &mut self.layers {
            let in_progress = layer.tiles().stats().in_progress;
            if let Some(watch) = &mut layer.watch {
                watch.update(now, in_progress, self.failure_grace);
                still_waiting |= !watch.waiting.is_empty();
            }
        }
        if still_waiting {
            // Without this an idle window would not notice a failure until the mouse moves.
            self.ctx.request_repaint_after(self.failure_grace / 2);
        }
    }

    /// Tiles that failed to load from the current sources (sticky until [`Basemaps::reload`]).
    pub fn failed_tile_count(&self) -> usize {
        self.layers.iter().map(BasemapLayer::failed_count).sum()
    }

    /// Tiles being downloaded or read right now.
    pub fn loading_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.tiles().stats().in_progress)
            .sum()
    }

    /// The status line: the choice's problem, else tile failures; `None` when all is well.
    pub fn status_message(&self, lang: Lang) -> Option<String> {
        if let Some(problem) = &self.problem {
            return Some(format!(
                "{} {}",
                problem.message(lang),
                lang.pick("（已改用内置底图）", "(showing the built-in basemap)")
            ));
        }
        let failed = self.failed_tile_count();
        (failed > 0).then(|| match lang {
            Lang::Zh => format!("{failed} 个底图瓦片加载失败（网络不可用？）"),
            Lang::En => format!("{failed} basemap tiles failed to load (offline?)"),
        })
    }

    /// Attribution of every drawn layer, without repeats: (text, link).
    pub fn attributions(&self) -> Vec<(String, Option<String>)> {
        let mut seen = Vec::new();
        for layer in &self.layers {
            if !seen.contains(&layer.attribution) {
                seen.push(layer.attribution.clone());
            }
        }
        seen
    }

    /// Draws the attribution in the bottom-right corner of `rect` (the map's), small, on a
    /// translucent box; a click opens the first link.
    pub fn draw_attribution(&self, ui: &mut Ui, rect: Rect) {
        let attributions = self.attributions();
        if attributions.is_empty() {
            return;
        }
        let text = attributions
            .iter()
            .map(|(text, _)| text.as_str())
            .collect::<Vec<_>>()
            .join(" | ");
        let dark = ui.visuals().dark_mode;
        let (fill, text_color) = if dark {
            (Color32::from_black_alpha(150), Color32::from_gray(220))
        } else {
            (Color32::from_white_alpha(170), Color32::from_gray(40))
        };
        let painter = ui.painter_at(rect);
        let galley = painter.layout_no_wrap(text, FontId::proportional(11.0), text_color);
        let padding = vec2(4.0, 1.0);
        let size = galley.size() + padding * 2.0;
        let box_rect = Align2::RIGHT_BOTTOM.align_size_within_rect(size, rect);
        painter.rect_filled(box_rect, 2.0, fill);
        painter.galley(box_rect.min + padding, galley, text_color);

        let links: Vec<&str> = attributions
            .iter()
            .filter_map(|(_, url)| url.as_deref())
            .collect();
        if let Some(first) = links.first() {
            let response = ui
                .interact(
                    box_rect,
                    egui::Id::unique("onemap-basemap-attribution"),
                    Sense::click(),
                )
                .on_hover_text(links.join("\n"));
            if response.clicked() {
                ui.ctx().open_url(egui::OpenUrl::new_tab(*first));
            }
        }
    }

    /// Draws the failure/problem badge in the bottom-left corner of `rect`, with "reload" and
    /// close buttons. Shown once per switch or reload; closing hides it until then.
    pub fn draw_status_badge(&mut self, ui: &mut Ui, rect: Rect, lang: Lang) {
        if self.badge_dismissed {
            return;
        }
        let Some(message) = self.status_message(lang) else {
            return;
        };
        let mut reload = false;
        let mut dismiss = false;
        let frame = egui::Frame::popup(ui.style()).inner_margin(4.0);
        egui::Area::new(egui::Id::unique("onemap-basemap-status"))
            .order(egui::Order::Foreground)
            .pivot(Align2::LEFT_BOTTOM)
            .fixed_pos(rect.left_bottom() + vec2(6.0, -6.0))
            .show(ui.ctx(), |ui| {
                frame.show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.label(
                            egui::RichText::new(message.clone())
                                .small()
                                .color(ui.visuals().warn_fg_color),
                        );
                        if self.problem.is_none()
                            && ui
                                .small_button(lang.pick("重新加载瓦片", "Reload tiles"))
                                .clicked()
                        {
                            reload = true;
                        }
                        if ui
                            .small_button("×")
                            .on_hover_text(lang.pick("关闭提示", "Dismiss"))
                            .clicked()
                        {
                            dismiss = true;
                        }
                    });
                });
            });
        if reload {
            let _ = self.reload();
        }
        if dismiss {
            self.badge_dismissed = true;
        }
    }

    /// Attribution and status badge together, for the map view to call after the map.
    pub fn draw_overlays(&mut self, ui: &mut Ui, rect: Rect, lang: Lang) {
        self.draw_attribution(ui, rect);
        self.draw_status_badge(ui, rect, lang);
    }
}

impl Drop for Basemaps {
    fn drop(&mut self) {
        retire(std::mem::take(&mut self.layers));
    }
}

/// Drops replaced sources off the UI thread (see the module docs).
fn retire(layers: Vec<BasemapLayer>) {
    if layers.is_empty() {
        return;
    }
    // If the thread cannot be spawned the closure, and the layers with it, drop right here.
    let _ = std::thread::Builder::new()
        .name("basemap-retire".into())
        .spawn(move || drop(layers));
}

fn host_of(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme
        .split(['/', '?'])
        .next()
        .unwrap_or(without_scheme)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The first line of `attribution.txt` in the folder if there is one, else the folder name.
fn folder_attribution(path: &Path) -> String {
    std::fs::read_to_string(path.join("attribution.txt"))
        .ok()
        .and_then(|text| text.lines().next().map(|l| l.trim().to_owned()))
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| file_name(path))
}

/// The attribution walkers asks a tile source for. OneMap draws attribution itself
/// (`Basemaps::attributions`) from owned strings; walkers' type wants `&'static str`.
pub(crate) fn drawn_by_onemap() -> Attribution {
    Attribution {
        text: "",
        url: "",
        logo_light: None,
        logo_dark: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn failure_watch_counts_tiles_missing_past_grace_with_nothing_in_flight() {
        let start = Instant::now();
        let grace = Duration::from_secs(5);
        let mut watch = FailureWatch::new(19);
        let tile = TileId {
            x: 3,
            y: 4,
            zoom: 5,
        };
        watch.observe(tile, None, start);
        watch.update(start + Duration::from_secs(1), 0, grace);
        assert!(watch.failed.is_empty(), "too early");

        watch.observe(tile, Some(0.5), start + Duration::from_secs(4)); // a parent's quarter
        watch.update(start + Duration::from_secs(6), 3, grace);
        assert!(watch.failed.is_empty(), "downloads still running");
        watch.update(start + Duration::from_secs(6), 0, grace);
        assert_eq!(watch.failed.len(), 1);

        // Arrives late after all: no longer failed.
        watch.observe(tile, Some(1.0), start + Duration::from_secs(7));
        assert!(watch.failed.is_empty());
    }

    #[test]
    fn failure_watch_forgets_tiles_scrolled_away_and_maps_deep_zoom_to_ancestor() {
        let start = Instant::now();
        let grace = Duration::from_secs(2);
        let mut watch = FailureWatch::new(18);
        let deep = TileId {
            x: 8,
            y: 8,
            zoom: 20,
        };
        // At zoom 20 the best a z18 source can give is a quarter-width piece: complete.
        watch.observe(deep, Some(0.25), start);
        assert!(watch.waiting.is_empty());
        watch.observe(deep, None, start);
        assert_eq!(watch.waiting.keys().next().map(|t| t.zoom), Some(18));
        watch.update(start + Duration::from_secs(10), 0, grace);
        assert!(watch.failed.is_empty(), "not seen for 10 s: scrolled away");
    }

    #[test]
    fn host_is_taken_from_url() {
        assert_eq!(
            host_of("https://a.tile.example.org/{z}/{x}/{y}.png"),
            "a.tile.example.org"
        );
        assert_eq!(host_of("http://h:8080?x"), "h:8080");
    }
}
