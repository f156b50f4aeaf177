//! Native file dialogs: the only place rfd is used, so tests never block on one.

use std::path::PathBuf;

/// Asks for one or more layer files to open.
pub fn pick_layer_files(title: &str) -> Vec<PathBuf> {
    rfd::FileDialog::new()
        .set_title(title)
        .add_filter(
            "GeoJSON, Shapefile, CSV, Excel, KML/KMZ, GeoPackage, OSM PBF",
            &[
                "geojson", "json", "shp", "csv", "tsv", "txt", "xlsx", "xls", "ods", "kml", "kmz",
                "gpkg", "pbf",
            ],
        )
        .add_filter("*", &["*"])
        .pick_files()
        .unwrap_or_default()
}

/// Asks for one file with the given extensions.
pub fn pick_file(title: &str, filter_name: &str, extensions: &[&str]) -> Option<PathBuf> {
    rfd::FileDialog::new()
        .set_title(title)
        .add_filter(filter_name, extensions)
        .pick_file()
}

/// Asks for a folder.
pub fn pick_folder(title: &str) -> Option<PathBuf> {
    rfd::FileDialog::new().set_title(title).pick_folder()
}

/// Asks where to save a file with the given extension.
pub fn save_file(title: &str, filter_name: &str, extension: &str) -> Option<PathBuf> {
    rfd::FileDialog::new()
        .set_title(title)
        .add_filter(filter_name, &[extension])
        .save_file()
        .map(|p| {
            if p.extension().is_none() {
                p.with_extension(extension)
            } else {
                p
            }
        })
}
