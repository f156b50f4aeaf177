//! Drive-time analysis: the road graph, multi-station reach within a time budget, and
//! response-area polygons (covered area within `access_m` of reached roads, by time band).

pub mod coverage;
pub mod isochrone;
pub mod live;
pub mod reach;
pub mod road_graph;

pub use road_graph::{
    AnalysisError, Closures, Direction, Edge, LocalProjection, RoadGraph, SpeedTable,
};
