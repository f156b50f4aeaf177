//! Drive-time analysis: the road graph, multi-station reach within a time budget, and
//! response-area polygons (covered area within `access_m` of reached roads, by time band),
//! coverage reports, station siting (MCLP) with GB 51080 site checks, and the labelled
//! straight-line estimate used when no road network is loaded. Evacuation: people inside a
//! zone, shelter capacity and siting checks, the optimal shelter allocation, minimum needs,
//! and the zone report.

pub mod allocation;
pub mod band_fill;
pub mod coverage;
pub mod hazard_zones;
pub mod incident;
pub mod isochrone;
pub mod live;
pub mod measure;
pub mod needs;
pub mod population;
pub mod reach;
pub mod road_graph;
pub mod shelters;
pub mod siting;
pub mod station_checks;
pub mod straight_line;
pub mod zone_report;

pub use road_graph::{
    AnalysisError, Closures, Direction, Edge, LocalProjection, RoadGraph, SpeedTable,
};
