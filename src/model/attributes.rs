//! Feature attributes stored column by column, so a million features with a handful of
//! properties stay small (no map per feature).

use std::collections::HashMap;
use std::fmt;

/// One attribute value as a file supplies it. Nested arrays and objects are kept as their
/// JSON text so that they survive a round trip.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    Json(String),
}

/// A borrowed view of one attribute value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(&'a str),
    Json(&'a str),
}

impl ValueRef<'_> {
    /// The value as a number, when it is one (numeric text such as "12" counts too).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ValueRef::Number(n) => Some(*n),
            ValueRef::Text(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }

    pub fn to_owned_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Number(n) => Value::Number(n),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Json(s) => Value::Json(s.to_owned()),
        }
    }

    /// The value as JSON, for writing GeoJSON or CLI output.
    pub fn to_json(&self) -> serde_json::Value {
        match *self {
            ValueRef::Null => serde_json::Value::Null,
            ValueRef::Bool(b) => serde_json::Value::Bool(b),
            ValueRef::Number(n) => number_to_json(n),
            ValueRef::Text(s) => serde_json::Value::String(s.to_owned()),
            ValueRef::Json(s) => serde_json::from_str(s).unwrap_or(serde_json::Value::Null),
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("null"),
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    write!(f, "{}", *n as i64)
                } else {
                    write!(f, "{n}")
                }
            }
            ValueRef::Text(s) | ValueRef::Json(s) => f.write_str(s),
        }
    }
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Number(n) => ValueRef::Number(*n),
            Value::Text(s) => ValueRef::Text(s),
            Value::Json(s) => ValueRef::Json(s),
        }
    }
}

/// Values of one field for every row. A column starts typed after its first non-null value
/// and falls back to `Mixed` when a later row disagrees.
#[derive(Debug, Clone)]
enum ColumnData {
    /// Every row so far is null.
    Empty,
    /// NaN marks a null row (a real NaN never reaches the table: the loader turns it into null).
    Number(Vec<f64>),
    /// `ends[i]` is the end of row i's text in `bytes`; null rows are tracked by `nulls`.
    Text {
        bytes: String,
        ends: Vec<usize>,
    },
    /// 0 = false, 1 = true, 2 = null.
    Bool(Vec<u8>),
    Mixed(Vec<Value>),
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    data: ColumnData,
    /// Rows whose value is null, for `Text` columns (other kinds encode null inline).
    text_nulls: Vec<u64>,
}

impl Column {
    fn new(name: &str) -> Self {
        Column {
            name: name.to_owned(),
            data: ColumnData::Empty,
            text_nulls: Vec::new(),
        }
    }

    fn len_hint(&self, rows: usize) -> usize {
        match &self.data {
            ColumnData::Empty => rows,
            ColumnData::Number(v) => v.len(),
            ColumnData::Text { ends, .. } => ends.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Mixed(v) => v.len(),
        }
    }

    fn get(&self, row: usize) -> ValueRef<'_> {
        match &self.data {
            ColumnData::Empty => ValueRef::Null,
            ColumnData::Number(v) => match v.get(row) {
                Some(n) if !n.is_nan() => ValueRef::Number(*n),
                _ => ValueRef::Null,
            },
            ColumnData::Text { bytes, ends } => {
                if row >= ends.len() || bit(&self.text_nulls, row) {
                    return ValueRef::Null;
                }
                let start = if row == 0 { 0 } else { ends[row - 1] };
                ValueRef::Text(&bytes[start..ends[row]])
            }
            ColumnData::Bool(v) => match v.get(row) {
                Some(0) => ValueRef::Bool(false),
                Some(1) => ValueRef::Bool(true),
                _ => ValueRef::Null,
            },
            ColumnData::Mixed(v) => v.get(row).map(Value::as_ref).unwrap_or(ValueRef::Null),
        }
    }

    /// Appends `value` as row `row` (the column holds exactly `row` rows before the call).
    fn push(&mut self, row: usize, value: ValueRef<'_>) {
        if let ColumnData::Empty = self.data {
            if value.is_null() {
                return;
            }
            self.data = match value {
                ValueRef::Number(_) => ColumnData::Number(vec![f64::NAN; row]),
                ValueRef::Text(_) => {
                    self.text_nulls = vec![u64::MAX; row.div_ceil(64)];
                    ColumnData::Text {
                        bytes: String::new(),
                        ends: vec![0; row],
                    }
                }
                ValueRef::Bool(_) => ColumnData::Bool(vec![2; row]),
                _ => ColumnData::Mixed(vec![Value::Null; row]),
            };
        }
        let fits = matches!(
            (&self.data, value),
            (_, ValueRef::Null)
                | (ColumnData::Number(_), ValueRef::Number(_))
                | (ColumnData::Text { .. }, ValueRef::Text(_))
                | (ColumnData::Bool(_), ValueRef::Bool(_))
                | (ColumnData::Mixed(_), _)
        );
        if !fits {
            self.make_mixed(row);
        }
        match (&mut self.data, value) {
            (ColumnData::Empty, _) => {}
            (ColumnData::Number(v), ValueRef::Number(n)) => v.push(n),
            (ColumnData::Number(v), _) => v.push(f64::NAN),
            (ColumnData::Text { bytes, ends }, v) => {
                if let ValueRef::Text(s) = v {
                    bytes.push_str(s);
                    set_bit(&mut self.text_nulls, row, false);
                } else {
                    set_bit(&mut self.text_nulls, row, true);
                }
                ends.push(bytes.len());
            }
            (ColumnData::Bool(v), ValueRef::Bool(b)) => v.push(u8::from(b)),
            (ColumnData::Bool(v), _) => v.push(2),
            (ColumnData::Mixed(v), value) => v.push(value.to_owned_value()),
        }
    }

    fn make_mixed(&mut self, rows: usize) {
        let values: Vec<Value> = (0..rows).map(|r| self.get(r).to_owned_value()).collect();
        self.data = ColumnData::Mixed(values);
        self.text_nulls = Vec::new();
    }

    fn pad_to(&mut self, rows: usize) {
        while self.len_hint(rows) < rows {
            let row = self.len_hint(rows);
            self.push(row, ValueRef::Null);
        }
    }
}

fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
}

fn set_bit(bits: &mut Vec<u64>, i: usize, on: bool) {
    let word = i / 64;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    if on {
        bits[word] |= 1 << (i % 64);
    } else {
        bits[word] &= !(1 << (i % 64));
    }
}

/// The attribute table of a layer: named fields in first-seen order, one row per feature.
#[derive(Debug, Clone, Default)]
pub struct AttributeTable {
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    rows: usize,
}

impl AttributeTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of rows (features).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Field names in the order they first appeared.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    pub fn field_count(&self) -> usize {
        self.columns.len()
    }

    /// Position of a field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Value of field `field` (by position) in row `row`; null when out of range.
    pub fn value(&self, row: usize, field: usize) -> ValueRef<'_> {
        self.columns
            .get(field)
            .map(|c| c.get(row))
            .unwrap_or(ValueRef::Null)
    }

    /// Value of a named field in row `row`; null when the field is unknown.
    pub fn get(&self, row: usize, name: &str) -> ValueRef<'_> {
        self.field_index(name)
            .map(|f| self.value(row, f))
            .unwrap_or(ValueRef::Null)
    }

    /// Every non-null (field, value) pair of one row, in field order.
    pub fn row(&self, row: usize) -> impl Iterator<Item = (&str, ValueRef<'_>)> {
        self.columns
            .iter()
            .map(move |c| (c.name.as_str(), c.get(row)))
            .filter(|(_, v)| !v.is_null())
    }

    /// Appends one row. Fields not named here are null in this row; new fields are added
    /// (null in earlier rows). A field named twice keeps its last value.
    pub fn push_row<'a>(&mut self, values: impl IntoIterator<Item = (&'a str, ValueRef<'a>)>) {
        let row = self.rows;
        for (name, value) in values {
            let field = match self.index.get(name) {
                Some(&f) => f,
                None => {
                    self.columns.push(Column::new(name));
                    let f = self.columns.len() - 1;
                    self.index.insert(name.to_owned(), f);
                    f
                }
            };
            let column = &mut self.columns[field];
            column.pad_to(row);
            if column.len_hint(row) > row {
                // Duplicate key within one row: replace by rebuilding as mixed, rare.
                column.make_mixed(row + 1);
                if let ColumnData::Mixed(v) = &mut column.data {
                    v[row] = value.to_owned_value();
                }
                continue;
            }
            column.push(row, value);
        }
        self.rows += 1;
        for column in &mut self.columns {
            column.pad_to(self.rows);
        }
    }

    /// The values of one row as a JSON object (for GeoJSON output and the CLI).
    pub fn row_json(&self, row: usize) -> serde_json::Map<String, serde_json::Value> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.get(row).to_json()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_types_nulls_and_fall_back_to_mixed() {
        let mut t = AttributeTable::new();
        t.push_row([("name", ValueRef::Text("甲")), ("n", ValueRef::Number(1.0))]);
        t.push_row([("n", ValueRef::Null), ("late", ValueRef::Bool(true))]);
        t.push_row([
            ("name", ValueRef::Text("")),
            ("n", ValueRef::Text("x")),
            ("late", ValueRef::Bool(false)),
        ]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(0, "name"), ValueRef::Text("甲"));
        assert_eq!(t.get(1, "name"), ValueRef::Null);
        assert_eq!(t.get(2, "name"), ValueRef::Text(""));
        assert_eq!(t.get(0, "n"), ValueRef::Number(1.0));
        assert_eq!(t.get(1, "n"), ValueRef::Null);
        assert_eq!(t.get(2, "n"), ValueRef::Text("x"));
        assert_eq!(t.get(0, "late"), ValueRef::Null);
        assert_eq!(t.get(1, "late"), ValueRef::Bool(true));
        assert_eq!(t.get(2, "late"), ValueRef::Bool(false));
        assert_eq!(t.field_names().collect::<Vec<_>>(), ["name", "n", "late"]);
        assert_eq!(t.row(1).count(), 1);
    }

    #[test]
    fn text_columns_started_late_mark_earlier_rows_null() {
        let mut t = AttributeTable::new();
        for _ in 0..70 {
            t.push_row([("a", ValueRef::Null)]);
        }
        t.push_row([("a", ValueRef::Text("x"))]);
        assert_eq!(t.get(69, "a"), ValueRef::Null);
        assert_eq!(t.get(70, "a"), ValueRef::Text("x"));
    }

    #[test]
    fn integral_numbers_display_without_fraction() {
        assert_eq!(ValueRef::Number(17.0).to_string(), "17");
        assert_eq!(ValueRef::Number(2.5).to_string(), "2.5");
        assert_eq!(ValueRef::Number(3.0).to_json(), serde_json::json!(3));
    }
}
