//! Fonts (placeholder until the bundled CJK font lands).
/// Installs fonts.
pub fn install_fonts(_ctx: &egui::Context) {}
