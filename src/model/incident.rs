//! The kinds of incident a commander can drop on the map, with the search radius each one
//! starts with. Shared by the incident analysis, the scenario document and the UI.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What happened. The key (`"hazchem"`) is what files and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    Fire,
    Hazchem,
    Flood,
    Landslide,
    Subsidence,
    PipelineLeak,
    Earthquake,
    Other,
}

impl IncidentKind {
    /// Every kind, in the order menus list them.
    pub const ALL: [IncidentKind; 8] = [
        IncidentKind::Fire,
        IncidentKind::Hazchem,
        IncidentKind::Flood,
        IncidentKind::Landslide,
        IncidentKind::Subsidence,
        IncidentKind::PipelineLeak,
        IncidentKind::Earthquake,
        IncidentKind::Other,
    ];

    /// The key used in files and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            IncidentKind::Fire => "fire",
            IncidentKind::Hazchem => "hazchem",
            IncidentKind::Flood => "flood",
            IncidentKind::Landslide => "landslide",
            IncidentKind::Subsidence => "subsidence",
            IncidentKind::PipelineLeak => "pipeline_leak",
            IncidentKind::Earthquake => "earthquake",
            IncidentKind::Other => "other",
        }
    }

    /// Parses a key (case-insensitive; `-` and `_` are interchangeable).
    pub fn from_key(text: &str) -> Option<IncidentKind> {
        let key = text.trim().to_ascii_lowercase().replace('-', "_");
        IncidentKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The name shown to users.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            IncidentKind::Fire => lang.pick("火灾", "Fire"),
            IncidentKind::Hazchem => lang.pick("危化品泄漏", "Hazchem leak"),
            IncidentKind::Flood => lang.pick("洪涝", "Flood"),
            IncidentKind::Landslide => lang.pick("滑坡/崩塌", "Landslide"),
            IncidentKind::Subsidence => lang.pick("地面塌陷", "Subsidence"),
            IncidentKind::PipelineLeak => lang.pick("管道泄漏", "Pipeline leak"),
            IncidentKind::Earthquake => lang.pick("地震破坏", "Earthquake damage"),
            IncidentKind::Other => lang.pick("其他", "Other"),
        }
    }

    /// The radius the "what is around" search starts with, in metres. A hazchem leak looks
    /// 1 km out (the order of ERG protective-action distances for large spills); a fire
    /// looks at its block; area hazards (flood, earthquake) look wider.
    pub fn default_radius_m(self) -> f64 {
        match self {
            IncidentKind::Fire => 500.0,
            IncidentKind::Hazchem => 1000.0,
            IncidentKind::Flood => 1500.0,
            IncidentKind::Landslide => 500.0,
            IncidentKind::Subsidence => 300.0,
            IncidentKind::PipelineLeak => 800.0,
            IncidentKind::Earthquake => 2000.0,
            IncidentKind::Other => 500.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IncidentKind;

    #[test]
    fn keys_round_trip_and_accept_dashes() {
        for kind in IncidentKind::ALL {
            assert_eq!(IncidentKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(
            IncidentKind::from_key("Pipeline-Leak"),
            Some(IncidentKind::PipelineLeak)
        );
        assert_eq!(IncidentKind::from_key("meteor"), None);
    }
}
