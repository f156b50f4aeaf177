//! egui panels and dialogs of the OneMap window.

/// The basemap switcher.
pub mod basemap_panel;
/// Native file dialogs (the only place rfd is used).
pub mod dialogs;
