//! GeoJSON reader (temporary strict version; to be replaced by the tolerant streaming one).

use std::path::Path;

use crate::model::{Layer, LayerKind, ValueRef};

use super::{LoadError, LoadWarning, Loaded, Progress};

/// Reads a GeoJSON file into one layer.
pub fn read_geojson_file(path: &Path, _progress: &Progress) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let fc: geojson::FeatureCollection =
        text.parse()
            .map_err(|e: geojson::Error| LoadError::Format {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut layer = Layer {
        kind: LayerKind::guess_from_name(&name),
        name,
        path: Some(path.to_owned()),
        ..Layer::default()
    };
    let mut warnings = Vec::new();
    for (i, f) in fc.features.into_iter().enumerate() {
        let Some(g) = f.geometry else {
            warnings.push(LoadWarning {
                file: path.to_owned(),
                feature: Some(i),
                message: "no geometry".into(),
            });
            continue;
        };
        let Ok(geom) = geo::Geometry::<f64>::try_from(g) else {
            continue;
        };
        layer.geometries.push(geom);
        layer.source_index.push(i as u32);
        let props = f.properties.unwrap_or_default();
        let texts: Vec<(String, serde_json::Value)> = props.into_iter().collect();
        layer.attributes.push_row(texts.iter().map(|(k, v)| {
            let r = match v {
                serde_json::Value::Null => ValueRef::Null,
                serde_json::Value::Bool(b) => ValueRef::Bool(*b),
                serde_json::Value::Number(n) => ValueRef::Number(n.as_f64().unwrap_or(f64::NAN)),
                serde_json::Value::String(s) => ValueRef::Text(s),
                _ => ValueRef::Null,
            };
            (k.as_str(), r)
        }));
    }
    Ok(Loaded { layer, warnings })
}
