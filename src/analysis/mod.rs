//! Drive-time analysis: the road graph, multi-station reach within a time budget, and
//! response-area polygons (covered area within `access_m` of reached roads, by time band).
//! Evacuation: people inside a zone, shelter capacity and siting checks, the optimal
//! shelter allocation, minimum needs, and the zone report.

pub mod allocation;
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
pub mod zone_report;

pub use road_graph::{
    AnalysisError, Closures, Direction, Edge, LocalProjection, RoadGraph, SpeedTable,
};
