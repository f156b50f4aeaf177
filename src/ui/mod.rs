//! The window: one panel per file; each reads the state and returns commands.

pub mod basemap_panel;
pub mod coverage_panel;
pub mod dialogs;
pub mod fonts;
pub mod identify_panel;
pub mod import_dialog;
pub mod incident_panel;
pub mod layers_panel;
pub mod legend;
pub mod response_panel;
pub mod search_panel;
pub mod window;
pub mod zone_panel;

pub use window::OneMapApp;
