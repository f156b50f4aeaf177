//! Basemap choice (placeholder until the tile sources land).

use serde::{Deserialize, Serialize};

/// Which basemap is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum BasemapChoice {
    #[default]
    Builtin,
}

/// Basemap settings that persist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct BasemapSettings {
    pub choice: BasemapChoice,
}

/// Runtime tile sources.
#[derive(Default)]
pub struct Basemaps;

impl Basemaps {
    pub fn tile_layers(&mut self) -> Vec<&mut dyn walkers::Tiles> {
        Vec::new()
    }

    pub fn draw_attribution(&self, _ui: &egui::Ui, _rect: egui::Rect) {}
}
