//! The commander's and planner's work as a document: incidents and evacuation zones, the
//! edits that change them with undo and redo, the project file that keeps them with the
//! layers, view and analysis settings, and when to autosave. Core: no GUI, no clock, no
//! threads; callers pass in the time.

// When to write the project without being asked, from times the caller supplies.
pub mod autosave;
// Incidents, evacuation zones and the checks their values pass.
pub mod document;
// Edits with undo and redo.
pub mod edit;
// The project file: format, atomic save, load with fallback to the previous version.
pub mod project;

pub use autosave::{Autosave, AutosavePolicy};
pub use document::{
    DocumentError, Incident, IncidentFields, IncidentId, LonLat, ScenarioDocument, Zone, ZoneId,
    ZoneShape, ZoneStatus,
};
pub use edit::{Applied, Edit, EditKind, History, HistoryError};
pub use project::{Project, ProjectError};
