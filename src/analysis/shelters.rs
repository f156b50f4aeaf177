//! Shelter attributes the plans rely on: how many people a shelter takes and whether it is
//! open.

use crate::model::{Layer, ValueRef};

/// The Zhoucun plan's effective shelter area per urban resident, m².
pub const DEFAULT_M2_PER_PERSON: f64 = 2.5;

/// Fields read as the shelter's capacity (people), first found wins.
const CAPACITY_FIELDS: [&str; 3] = ["capacity", "容纳人数", "可容纳人数"];
/// Fields read as the shelter's effective area (m²), first found wins.
const AREA_FIELDS: [&str; 3] = ["area_m2", "有效面积", "面积"];
/// Fields read as the shelter's status.
const STATUS_FIELDS: [&str; 2] = ["status", "状态"];

/// Status words (lower case) that mean a shelter cannot take people now.
const CLOSED_WORDS: [&str; 22] = [
    "closed",
    "close",
    "full",
    "unavailable",
    "not available",
    "inactive",
    "disabled",
    "out of service",
    "damaged",
    "suspended",
    "false",
    "no",
    "关闭",
    "已关闭",
    "停用",
    "已满",
    "满员",
    "不可用",
    "暂停",
    "暂停使用",
    "损毁",
    "未开放",
];

fn first_number(layer: &Layer, row: usize, fields: &[&str]) -> Option<f64> {
    fields.iter().find_map(|f| {
        layer
            .attributes
            .get(row, f)
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
    })
}

/// People shelter `row` takes: its `capacity`, else `area_m2 / m2_per_person`, else None
/// (also when the values are negative or not numbers, or `m2_per_person` is not positive).
pub fn shelter_capacity(layer: &Layer, row: usize, m2_per_person: f64) -> Option<f64> {
    if let Some(capacity) = first_number(layer, row, &CAPACITY_FIELDS) {
        return Some(capacity);
    }
    let area = first_number(layer, row, &AREA_FIELDS)?;
    (m2_per_person.is_finite() && m2_per_person > 0.0).then(|| area / m2_per_person)
}

/// Is shelter `row` open? A missing status means open; a status reading closed, full,
/// unavailable, 关闭, 停用, 已满... (or a boolean false) means closed; other text is open.
pub fn shelter_is_open(layer: &Layer, row: usize) -> bool {
    for field in STATUS_FIELDS {
        match layer.attributes.get(row, field) {
            ValueRef::Null => continue,
            ValueRef::Bool(open) => return open,
            ValueRef::Text(text) => {
                let word = text.trim().to_lowercase();
                return !CLOSED_WORDS.contains(&word.as_str());
            }
            _ => return true,
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AttributeTable, Value};

    fn shelters(rows: &[Vec<(&str, Value)>]) -> Layer {
        let mut attributes = AttributeTable::new();
        for row in rows {
            attributes.push_row(row.iter().map(|(k, v)| (*k, v.as_ref())));
        }
        Layer {
            name: "shelters".into(),
            geometries: vec![geo::Geometry::Point(geo::Point::new(0.0, 0.0)); rows.len()],
            source_index: (0..rows.len() as u32).collect(),
            attributes,
            ..Layer::default()
        }
    }

    #[test]
    fn capacity_then_area_then_none() {
        let l = shelters(&[
            vec![
                ("capacity", Value::Number(300.0)),
                ("area_m2", Value::Number(1000.0)),
            ],
            vec![("area_m2", Value::Number(1000.0))],
            vec![("name", Value::Text("x".into()))],
            vec![
                ("capacity", Value::Text("n/a".into())),
                ("area_m2", Value::Text("250".into())),
            ],
            vec![("capacity", Value::Number(-5.0))],
        ]);
        assert_eq!(shelter_capacity(&l, 0, 2.5), Some(300.0));
        assert_eq!(shelter_capacity(&l, 1, 2.5), Some(400.0));
        assert_eq!(shelter_capacity(&l, 1, 2.0), Some(500.0));
        assert_eq!(shelter_capacity(&l, 1, 0.0), None);
        assert_eq!(shelter_capacity(&l, 2, 2.5), None);
        assert_eq!(shelter_capacity(&l, 3, 2.5), Some(100.0));
        assert_eq!(shelter_capacity(&l, 4, 2.5), None);
        assert_eq!(shelter_capacity(&l, 99, 2.5), None);
    }

    #[test]
    fn status_words_close_a_shelter_and_missing_means_open() {
        let statuses = [
            (Value::Null, true),
            (Value::Text("open".into()), true),
            (Value::Text("开放".into()), true),
            (Value::Text(" Closed ".into()), false),
            (Value::Text("FULL".into()), false),
            (Value::Text("unavailable".into()), false),
            (Value::Text("关闭".into()), false),
            (Value::Text("停用".into()), false),
            (Value::Text("已满".into()), false),
            (Value::Bool(false), false),
            (Value::Bool(true), true),
        ];
        let l = shelters(
            &statuses
                .iter()
                .map(|(v, _)| vec![("status", v.clone())])
                .collect::<Vec<_>>(),
        );
        for (row, (value, open)) in statuses.iter().enumerate() {
            assert_eq!(shelter_is_open(&l, row), *open, "{value:?}");
        }
    }
}
