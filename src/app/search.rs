//! Search by name or any attribute across every layer.

use super::{FeatureRef, MapLayer};

/// Features any of whose attribute values contains `query` (case-insensitive), name
/// matches first, at most `limit` of them. An empty query finds nothing.
pub fn search(layers: &[MapLayer], query: &str, limit: usize) -> Vec<FeatureRef> {
    let needle = query.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let mut by_name = Vec::new();
    let mut by_other = Vec::new();
    for l in layers.iter().rev() {
        let table = &l.layer.attributes;
        let name_fields: Vec<usize> = ["name", "名称", "name_en", "NAME"]
            .iter()
            .filter_map(|f| table.field_index(f))
            .collect();
        for row in 0..table.len() {
            if by_name.len() >= limit {
                break;
            }
            let mut name_hit = false;
            let mut other_hit = false;
            for field in 0..table.field_count() {
                let value = table.value(row, field);
                if value.is_null() {
                    continue;
                }
                if value.to_string().to_lowercase().contains(&needle) {
                    if name_fields.contains(&field) {
                        name_hit = true;
                        break;
                    }
                    other_hit = true;
                }
            }
            let hit = FeatureRef {
                layer: l.id,
                feature: row,
            };
            if name_hit {
                by_name.push(hit);
            } else if other_hit && by_other.len() < limit {
                by_other.push(hit);
            }
        }
    }
    by_name.extend(by_other);
    by_name.truncate(limit);
    by_name
}
