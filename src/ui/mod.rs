//! The egui side of OneMap: panels, widgets and the fonts they draw with.

/// Font set-up: egui's Latin fonts, the bundled CJK subset, a system CJK fallback.
pub mod fonts;
