//! Drive-time analysis: the road graph, multi-station reach within a time budget, and
//! response-area polygons (covered area within `access_m` of reached roads, by time band).

pub mod allocation;
pub mod coverage;
pub mod hazard_zones;
pub mod incident;
pub mod isochrone;
pub mod measure;
pub mod population;
pub mod reach;
pub mod road_graph;
pub mod shelters;

pub use road_graph::{
    AnalysisError, Closures, Direction, Edge, LocalProjection, RoadGraph, SpeedTable,
};
