//! Drive-time analysis: the road graph, multi-station reach within a time budget, and
//! response-area polygons (covered area within `access_m` of reached roads, by time band),
//! coverage reports, station siting (MCLP) with GB 51080 site checks, and the labelled
//! straight-line estimate used when no road network is loaded.

pub mod coverage;
pub mod isochrone;
pub mod reach;
pub mod road_graph;
pub mod siting;
pub mod station_checks;
pub mod straight_line;

pub use road_graph::{
    AnalysisError, Closures, Direction, Edge, LocalProjection, RoadGraph, SpeedTable,
};
