//! Fonts: egui's own Latin fonts first, then the bundled Noto Sans SC subset for Chinese, then
//! a system CJK font (when one is installed) for the rare characters the subset lacks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

/// Name of the bundled Chinese font in [`FontDefinitions::font_data`].
pub const BUNDLED_CJK_FONT_NAME: &str = "NotoSansSC-OneMap-subset";

/// Name of the system CJK font in [`FontDefinitions::font_data`], when one was found.
pub const SYSTEM_CJK_FONT_NAME: &str = "system-cjk";

/// Noto Sans CJK SC, subset to GB 2312 and the district's place names (`assets/fonts/README.md`).
pub static BUNDLED_CJK_FONT: &[u8] =
    include_bytes!("../../assets/fonts/NotoSansSC-OneMap-subset.otf");

/// Font files bigger than this are not read: no CJK font is, and reading one would stall start-up.
const MAX_SYSTEM_FONT_BYTES: u64 = 128 * 1024 * 1024;

/// How deep the font-directory search descends, and how many entries it looks at in all,
/// so an odd font tree cannot slow start-up.
const MAX_SEARCH_DEPTH: usize = 5;
const MAX_SEARCH_ENTRIES: usize = 20_000;

/// A CJK font found on this machine.
#[derive(Clone)]
pub struct SystemFont {
    /// Where the file is.
    pub path: PathBuf,
    /// The whole file (a collection for `.ttc`).
    pub bytes: Arc<Vec<u8>>,
    /// Which face of the collection to use (the Simplified Chinese one when there is a choice).
    pub face_index: u32,
}

impl std::fmt::Debug for SystemFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemFont")
            .field("path", &self.path)
            .field("bytes", &self.bytes.len())
            .field("face_index", &self.face_index)
            .finish()
    }
}

/// Installs the bundled CJK font and, when found, a system CJK font into `ctx`.
/// Returns the system font's path, for the log.
pub fn install_fonts(ctx: &egui::Context) -> Option<PathBuf> {
    let system = find_system_cjk_font();
    let path = system.as_ref().map(|font| font.path.clone());
    ctx.set_fonts(font_definitions(system));
    path
}

/// egui's default fonts, then the bundled CJK font, then `system` as the last fallback,
/// in both the proportional and the monospace family.
pub fn font_definitions(system: Option<SystemFont>) -> FontDefinitions {
    let mut definitions = FontDefinitions::default();
    definitions.font_data.insert(
        BUNDLED_CJK_FONT_NAME.to_owned(),
        Arc::new(FontData::from_static(BUNDLED_CJK_FONT)),
    );
    let mut fallbacks = vec![BUNDLED_CJK_FONT_NAME];
    if let Some(system) = system {
        let blob: egui::epaint::text::Blob = system.bytes;
        definitions.font_data.insert(
            SYSTEM_CJK_FONT_NAME.to_owned(),
            Arc::new(FontData::from_blob(blob, system.face_index)),
        );
        fallbacks.push(SYSTEM_CJK_FONT_NAME);
    }
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        let chain = definitions.families.entry(family).or_default();
        chain.extend(fallbacks.iter().map(|name| (*name).to_owned()));
    }
    definitions
}

/// The first usable CJK font among the well-known places on Linux, Windows and macOS, then
/// (Linux) a bounded search of the font directories for Noto Sans CJK or Source Han Sans.
pub fn find_system_cjk_font() -> Option<SystemFont> {
    known_font_paths()
        .into_iter()
        .find_map(|path| load_font(&path))
        .or_else(|| {
            searched_font_paths()
                .into_iter()
                .find_map(|path| load_font(&path))
        })
}

/// Reads `path` and checks it is a font egui can open; `None` when it is not.
pub fn load_font(path: &Path) -> Option<SystemFont> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_SYSTEM_FONT_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let face_index = pick_face(&bytes)?;
    Some(SystemFont {
        path: path.to_owned(),
        bytes: Arc::new(bytes),
        face_index,
    })
}

/// Well-known CJK font files, best first. Checking a path that does not exist is one `stat`.
fn known_font_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = [
        // Debian/Ubuntu fonts-noto-cjk, Arch noto-fonts-cjk, Fedora google-noto-sans-cjk-fonts.
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        // macOS.
        "/System/Library/Fonts/PingFang.ttc",
        "/System/Library/Fonts/Hiragino Sans GB.ttc",
        "/System/Library/Fonts/STHeiti Light.ttc",
        "/Library/Fonts/Arial Unicode.ttf",
        "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect();
    let windows_dir = std::env::var_os("SystemRoot")
        .or_else(|| std::env::var_os("WINDIR"))
        .map_or_else(|| PathBuf::from(r"C:\Windows"), PathBuf::from);
    for file in [
        "msyh.ttc",
        "msyh.ttf",
        "simhei.ttf",
        "simsun.ttc",
        "Deng.ttf",
    ] {
        paths.push(windows_dir.join("Fonts").join(file));
    }
    paths
}

/// Noto Sans CJK / Source Han Sans files anywhere in the usual font directories (a bounded walk).
fn searched_font_paths() -> Vec<PathBuf> {
    let mut roots = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        roots.push(home.join(".local/share/fonts"));
        roots.push(home.join(".fonts"));
    }
    let mut found = Vec::new();
    let mut budget = MAX_SEARCH_ENTRIES;
    for root in roots {
        walk_fonts(&root, 0, &mut budget, &mut found);
    }
    // Regular before other weights, Simplified Chinese files before the rest.
    found.sort_by_key(|path| {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        (!name.contains("regular"), !name.contains("sc"), name)
    });
    found
}

fn walk_fonts(dir: &Path, depth: usize, budget: &mut usize, found: &mut Vec<PathBuf>) {
    if depth > MAX_SEARCH_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk_fonts(&path, depth + 1, budget, found);
        } else if is_cjk_font_file_name(&path) {
            found.push(path);
        }
    }
}

fn is_cjk_font_file_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    let is_font = [".ttc", ".otf", ".ttf"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    let is_cjk_sans = ["notosanscjk", "notosanssc", "sourcehansans"]
        .iter()
        .any(|prefix| lower.starts_with(prefix));
    is_font && is_cjk_sans && !lower.contains("mono")
}

/// The face of `bytes` (a font or a collection) to use: the Simplified Chinese face of a
/// collection when its name says so, else the first face. `None` when `bytes` is no font.
pub fn pick_face(bytes: &[u8]) -> Option<u32> {
    let offsets = face_offsets(bytes)?;
    let mut first_valid = None;
    for (index, offset) in offsets.iter().enumerate() {
        let Ok(index) = u32::try_from(index) else {
            break;
        };
        if !face_is_valid(bytes, *offset) {
            continue;
        }
        first_valid.get_or_insert(index);
        if face_names(bytes, *offset)
            .iter()
            .any(|name| is_simplified_chinese_name(name))
        {
            return Some(index);
        }
    }
    first_valid
}

fn is_simplified_chinese_name(name: &str) -> bool {
    !name.contains("Mono")
        && name
            .split([' ', '-'])
            .any(|word| word == "SC" || word == "GB")
}

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let slice = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([slice[0], slice[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

/// Where each face's table directory starts: several for a `ttcf` collection, else one at 0.
fn face_offsets(bytes: &[u8]) -> Option<Vec<usize>> {
    if bytes.get(0..4)? == b"ttcf" {
        let count = read_u32(bytes, 8)?;
        (0..count.min(256) as usize)
            .map(|i| read_u32(bytes, 12 + 4 * i).map(|offset| offset as usize))
            .collect()
    } else {
        Some(vec![0])
    }
}

/// A face egui can open: a known sfnt version, every table inside the file, and a `cmap`.
fn face_is_valid(bytes: &[u8], offset: usize) -> bool {
    let Some(version) = read_u32(bytes, offset) else {
        return false;
    };
    if !matches!(version, 0x0001_0000 | 0x4F54_544F | 0x7472_7565) {
        return false; // 1.0 (TrueType), 'OTTO' (CFF), 'true' (Apple)
    }
    let mut has_cmap = false;
    for record in table_records(bytes, offset) {
        let Some((tag, start, length)) = record else {
            return false;
        };
        if start
            .checked_add(length)
            .is_none_or(|end| end > bytes.len())
        {
            return false;
        }
        has_cmap |= &tag == b"cmap";
    }
    has_cmap
}

/// `(tag, offset, length)` of each table of the face at `offset`; `None` for a truncated record.
fn table_records(
    bytes: &[u8],
    offset: usize,
) -> impl Iterator<Item = Option<([u8; 4], usize, usize)>> + '_ {
    let count = read_u16(bytes, offset + 4).unwrap_or(0) as usize;
    (0..count).map(move |i| {
        let at = offset + 12 + 16 * i;
        let tag: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        let start = read_u32(bytes, at + 8)? as usize;
        let length = read_u32(bytes, at + 12)? as usize;
        Some((tag, start, length))
    })
}

/// The family and full names (name IDs 1, 4, 16) of the face at `offset`, from its `name` table.
fn face_names(bytes: &[u8], offset: usize) -> Vec<String> {
    let Some((_, table, _)) = table_records(bytes, offset)
        .flatten()
        .find(|(tag, _, _)| tag == b"name")
    else {
        return Vec::new();
    };
    let count = read_u16(bytes, table + 2).unwrap_or(0) as usize;
    let strings = table + read_u16(bytes, table + 4).unwrap_or(0) as usize;
    let mut names = Vec::new();
    for i in 0..count {
        let record = table + 6 + 12 * i;
        let (Some(platform), Some(name_id), Some(length), Some(start)) = (
            read_u16(bytes, record),
            read_u16(bytes, record + 6),
            read_u16(bytes, record + 8),
            read_u16(bytes, record + 10),
        ) else {
            break;
        };
        // Windows-platform names are UTF-16BE; the rest repeat them in legacy encodings.
        if platform != 3 || !matches!(name_id, 1 | 4 | 16) {
            continue;
        }
        let from = strings + start as usize;
        let Some(raw) = bytes.get(from..from + length as usize) else {
            continue;
        };
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        names.push(String::from_utf16_lossy(&units));
    }
    names
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use egui::epaint::text::{Fonts, MissingGlyphPolicy, TextOptions};
    use egui::{Color32, FontId};

    const TITLE: &str = "周村区应急一张图";

    /// Fonts are only loaded by a pass; egui insists the texture updates are then consumed.
    fn run_one_pass(ctx: &egui::Context) {
        let mut output = ctx.run_ui(egui::RawInput::default(), |_| {});
        output.textures_delta.clear();
    }

    /// Lays `text` out with only the bundled font, panicking on any character it cannot draw.
    fn layout_with_bundled_font_only(text: &str) -> usize {
        let mut definitions = FontDefinitions::empty();
        definitions.font_data.insert(
            BUNDLED_CJK_FONT_NAME.to_owned(),
            Arc::new(FontData::from_static(BUNDLED_CJK_FONT)),
        );
        definitions
            .families
            .insert(FontFamily::Proportional, vec![BUNDLED_CJK_FONT_NAME.into()]);
        let mut fonts = Fonts::new(TextOptions::default(), definitions)
            .with_missing_glyph_policy(MissingGlyphPolicy::Panic);
        let mut view = fonts.with_pixels_per_point(1.0);
        assert!(view.has_glyphs(&FontId::proportional(14.0), text));
        let galley =
            view.layout_no_wrap(text.to_owned(), FontId::proportional(14.0), Color32::WHITE);
        let glyphs: Vec<_> = galley.rows.iter().flat_map(|row| &row.row.glyphs).collect();
        assert!(galley.size().x > 0.0);
        // Every glyph was rasterized into the atlas: a drawn glyph has a non-empty texture rect.
        for glyph in &glyphs {
            if !glyph.chr.is_whitespace() {
                assert!(
                    glyph.uv_rect.size.x > 0.0 && glyph.uv_rect.size.y > 0.0,
                    "{:?} has no bitmap",
                    glyph.chr
                );
            }
        }
        glyphs.len()
    }

    #[test]
    fn bundled_font_is_a_committed_subset_of_reasonable_size() {
        // Big enough to hold GB 2312 outlines, small enough to stay a subset.
        assert!(
            BUNDLED_CJK_FONT.len() > 1_000_000,
            "{}",
            BUNDLED_CJK_FONT.len()
        );
        assert!(
            BUNDLED_CJK_FONT.len() < 5_000_000,
            "{}",
            BUNDLED_CJK_FONT.len()
        );
        assert_eq!(pick_face(BUNDLED_CJK_FONT), Some(0));
        assert!(
            face_names(BUNDLED_CJK_FONT, 0)
                .iter()
                .any(|name| name == "Noto Sans CJK SC")
        );
    }

    #[test]
    fn bundled_font_draws_the_title_and_place_names() {
        assert_eq!(layout_with_bundled_font_only(TITLE), TITLE.chars().count());
        // Rare characters of village names, GB 2312 edges and punctuation egui or we use.
        layout_with_bundled_font_only("萌水镇 王村镇 南郊镇 北郊镇 长行村 丝绸路街道");
        layout_with_bundled_font_only("啊 齄 ，。：；？！（）【】《》、·— ←→↑↓ ■□▲△●○ ％ ０９");
        layout_with_bundled_font_only("OneMap 1:10,000 km² ±5 °C");
    }

    #[test]
    fn definitions_put_the_bundled_font_after_egui_defaults() {
        let definitions = font_definitions(None);
        assert!(definitions.font_data.contains_key(BUNDLED_CJK_FONT_NAME));
        assert!(!definitions.font_data.contains_key(SYSTEM_CJK_FONT_NAME));
        let defaults = FontDefinitions::default();
        for family in [FontFamily::Proportional, FontFamily::Monospace] {
            let chain = &definitions.families[&family];
            let default_chain = &defaults.families[&family];
            // Latin stays egui's: the defaults come first, unchanged.
            assert_eq!(&chain[..default_chain.len()], &default_chain[..]);
            assert_eq!(chain.last().unwrap(), BUNDLED_CJK_FONT_NAME);
        }
    }

    #[test]
    fn egui_context_lays_out_chinese_with_the_installed_fonts() {
        let ctx = egui::Context::default();
        ctx.set_fonts(font_definitions(None));
        run_one_pass(&ctx);
        let font_id = FontId::proportional(14.0);
        assert!(ctx.fonts_mut(|fonts| fonts.has_glyphs(&font_id, TITLE)));
        // U+4E1F lies outside GB 2312 and the place names, so not in the subset: that is what
        // the system font is for.
        assert!(!ctx.fonts_mut(|fonts| fonts.has_glyph(&font_id, '丟')));
    }

    #[test]
    fn system_font_goes_last_in_both_families() {
        // Use the bundled file as a stand-in system font so the test needs nothing installed.
        let system = SystemFont {
            path: PathBuf::from("bundled"),
            bytes: Arc::new(BUNDLED_CJK_FONT.to_vec()),
            face_index: 0,
        };
        let definitions = font_definitions(Some(system));
        for family in [FontFamily::Proportional, FontFamily::Monospace] {
            let chain = &definitions.families[&family];
            let n = chain.len();
            assert_eq!(chain[n - 2], BUNDLED_CJK_FONT_NAME);
            assert_eq!(chain[n - 1], SYSTEM_CJK_FONT_NAME);
        }
        assert_eq!(definitions.font_data[SYSTEM_CJK_FONT_NAME].index, 0);
    }

    #[test]
    fn installed_system_font_is_usable_when_present() {
        // Whatever this machine has must be a font egui can open (egui panics on one it cannot
        // parse), and with it the full chain draws a character the subset lacks.
        let Some(system) = find_system_cjk_font() else {
            return;
        };
        let ctx = egui::Context::default();
        ctx.set_fonts(font_definitions(Some(system.clone())));
        run_one_pass(&ctx);
        let font_id = FontId::proportional(14.0);
        assert!(
            ctx.fonts_mut(|fonts| fonts.has_glyphs(&font_id, TITLE)),
            "{system:?}"
        );
        assert!(
            ctx.fonts_mut(|fonts| fonts.has_glyph(&font_id, '丟')),
            "{system:?}"
        );
    }

    #[test]
    fn noto_cjk_collection_yields_its_simplified_chinese_face() {
        let path = Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
        let Some(font) = load_font(path) else {
            return; // fonts-noto-cjk not installed here
        };
        // JP, KR, SC, TC, HK, then the Mono faces.
        assert_eq!(font.face_index, 2);
    }

    #[test]
    fn non_fonts_and_truncated_fonts_are_rejected() {
        assert_eq!(pick_face(b""), None);
        assert_eq!(pick_face(b"not a font at all"), None);
        assert_eq!(pick_face(&BUNDLED_CJK_FONT[..2000]), None);
        let mut fake_collection = b"ttcf\x00\x01\x00\x00\x00\x00\x00\x02".to_vec();
        fake_collection.extend_from_slice(&[0, 0, 0, 20, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(pick_face(&fake_collection), None);
    }

    #[test]
    fn simplified_chinese_names_are_recognised() {
        assert!(is_simplified_chinese_name("Noto Sans CJK SC"));
        assert!(is_simplified_chinese_name("PingFang SC"));
        assert!(is_simplified_chinese_name("Hiragino Sans GB"));
        assert!(!is_simplified_chinese_name("Noto Sans Mono CJK SC"));
        assert!(!is_simplified_chinese_name("Noto Sans CJK JP"));
        assert!(!is_simplified_chinese_name("Microsoft YaHei"));
    }
}
