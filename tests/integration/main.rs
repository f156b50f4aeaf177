//! All integration tests in one binary: each test file used to link its own copy of the
//! crate and its dependencies, which filled the CI machine's disk. Each module below is one
//! former test file; `cargo test --test integration MODULE::` runs one of them.

mod support {
    mod points;
    pub mod shp_writer;
    pub use points::points;
}

mod architecture;
#[cfg(feature = "gui")]
mod basemap;
mod convert_cli;
mod crs_reference;
mod csv_reader;
mod demo_counts;
mod geojson_bad_input;
mod geojson_good_input;
mod gpkg;
mod incident_cli;
mod inspect_cli;
mod kml_reader;
#[cfg(feature = "gui")]
mod map_export;
mod osm_reader;
mod shapefile_reader;
mod shapefile_writer;
mod site_cli;
#[cfg(feature = "gui")]
mod ui_app;
mod xlsx_reader;
mod zone_report_cli;
