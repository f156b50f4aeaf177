//! A minimal Shapefile writer for tests and benches: builds .shp/.shx/.dbf bytes exactly as
//! given (raw dBASE field bytes, any shape type), so fixtures can be broken on purpose.

#![allow(dead_code)]

/// One shape to write. Rings and parts are written in the order and winding given.
pub enum Shape {
    Null,
    Point(f64, f64),
    PointZ(f64, f64, f64),
    MultiPoint(Vec<(f64, f64)>),
    PolyLine(Vec<Vec<(f64, f64)>>),
    PolyLineZ(Vec<Vec<(f64, f64)>>),
    Polygon(Vec<Vec<(f64, f64)>>),
    PolygonM(Vec<Vec<(f64, f64)>>),
    MultiPatch(Vec<Vec<(f64, f64)>>),
}

fn bbox(points: &[(f64, f64)]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for &(x, y) in points {
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    if points.is_empty() { [0.0; 4] } else { b }
}

fn push_f64s(out: &mut Vec<u8>, values: &[f64]) {
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

fn parts_content(out: &mut Vec<u8>, shape_type: i32, parts: &[Vec<(f64, f64)>], extra: usize) {
    let all: Vec<(f64, f64)> = parts.iter().flatten().copied().collect();
    out.extend_from_slice(&shape_type.to_le_bytes());
    push_f64s(out, &bbox(&all));
    out.extend_from_slice(&(parts.len() as i32).to_le_bytes());
    out.extend_from_slice(&(all.len() as i32).to_le_bytes());
    let mut start = 0i32;
    for p in parts {
        out.extend_from_slice(&start.to_le_bytes());
        start += p.len() as i32;
    }
    if shape_type == 31 {
        // Part types: triangle strips.
        for _ in parts {
            out.extend_from_slice(&0i32.to_le_bytes());
        }
    }
    for &(x, y) in &all {
        push_f64s(out, &[x, y]);
    }
    // Z and/or M ranges and arrays.
    for _ in 0..extra {
        push_f64s(out, &[0.0, 0.0]);
        for _ in &all {
            push_f64s(out, &[7.0]);
        }
    }
}

fn content(shape: &Shape) -> Vec<u8> {
    let mut out = Vec::new();
    match shape {
        Shape::Null => out.extend_from_slice(&0i32.to_le_bytes()),
        Shape::Point(x, y) => {
            out.extend_from_slice(&1i32.to_le_bytes());
            push_f64s(&mut out, &[*x, *y]);
        }
        Shape::PointZ(x, y, z) => {
            out.extend_from_slice(&11i32.to_le_bytes());
            push_f64s(&mut out, &[*x, *y, *z, 0.0]);
        }
        Shape::MultiPoint(points) => {
            out.extend_from_slice(&8i32.to_le_bytes());
            push_f64s(&mut out, &bbox(points));
            out.extend_from_slice(&(points.len() as i32).to_le_bytes());
            for &(x, y) in points {
                push_f64s(&mut out, &[x, y]);
            }
        }
        Shape::PolyLine(parts) => parts_content(&mut out, 3, parts, 0),
        Shape::PolyLineZ(parts) => parts_content(&mut out, 13, parts, 2),
        Shape::Polygon(parts) => parts_content(&mut out, 5, parts, 0),
        Shape::PolygonM(parts) => parts_content(&mut out, 25, parts, 1),
        Shape::MultiPatch(parts) => parts_content(&mut out, 31, parts, 2),
    }
    out
}

fn header(shape_type: i32, file_len_bytes: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(100);
    h.extend_from_slice(&9994i32.to_be_bytes());
    h.extend_from_slice(&[0u8; 20]);
    h.extend_from_slice(&((file_len_bytes / 2) as i32).to_be_bytes());
    h.extend_from_slice(&1000i32.to_le_bytes());
    h.extend_from_slice(&shape_type.to_le_bytes());
    push_f64s(&mut h, &[0.0; 8]);
    h
}

/// The .shp and .shx bytes for these shapes.
pub fn shp_bytes(shapes: &[Shape]) -> (Vec<u8>, Vec<u8>) {
    let mut body = Vec::new();
    let mut index = Vec::new();
    for (i, shape) in shapes.iter().enumerate() {
        let c = content(shape);
        index.extend_from_slice(&(((100 + body.len()) / 2) as i32).to_be_bytes());
        index.extend_from_slice(&((c.len() / 2) as i32).to_be_bytes());
        body.extend_from_slice(&((i + 1) as i32).to_be_bytes());
        body.extend_from_slice(&((c.len() / 2) as i32).to_be_bytes());
        body.extend_from_slice(&c);
    }
    let shape_type = shapes
        .iter()
        .map(|s| i32::from_le_bytes(content(s)[..4].try_into().unwrap_or([0; 4])))
        .find(|&t| t != 0)
        .unwrap_or(0);
    let mut shp = header(shape_type, 100 + body.len());
    shp.extend_from_slice(&body);
    let mut shx = header(shape_type, 100 + index.len());
    shx.extend_from_slice(&index);
    (shp, shx)
}

/// A dBASE field: name bytes (already encoded), type letter, width, decimals.
pub struct Field<'a> {
    pub name: &'a [u8],
    pub kind: u8,
    pub len: u8,
    pub decimals: u8,
}

/// The .dbf bytes: each row gives each field's raw bytes, padded with spaces to its width
/// (numbers right-aligned, everything else left-aligned).
pub fn dbf_bytes(fields: &[Field], rows: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let record_len: usize = 1 + fields.iter().map(|f| f.len as usize).sum::<usize>();
    let header_len = 32 + 32 * fields.len() + 1;
    let mut out = vec![0x03, 126, 1, 1];
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes());
    out.extend_from_slice(&[0u8; 20]);
    for f in fields {
        let mut d = [0u8; 32];
        let n = f.name.len().min(10);
        d[..n].copy_from_slice(&f.name[..n]);
        d[11] = f.kind;
        d[16] = f.len;
        d[17] = f.decimals;
        out.extend_from_slice(&d);
    }
    out.push(0x0D);
    for row in rows {
        out.push(b' ');
        for (f, value) in fields.iter().zip(row) {
            let width = f.len as usize;
            let v = &value[..value.len().min(width)];
            let pad = vec![b' '; width - v.len()];
            if f.kind == b'N' || f.kind == b'F' {
                out.extend_from_slice(&pad);
                out.extend_from_slice(v);
            } else {
                out.extend_from_slice(v);
                out.extend_from_slice(&pad);
            }
        }
    }
    out.push(0x1A);
    out
}

/// Writes `stem`.shp/.shx (and .dbf when given) into `dir`; returns the .shp path.
pub fn write_shapefile(
    dir: &std::path::Path,
    stem: &str,
    shapes: &[Shape],
    dbf: Option<Vec<u8>>,
) -> std::path::PathBuf {
    let (shp, shx) = shp_bytes(shapes);
    let path = dir.join(format!("{stem}.shp"));
    std::fs::write(&path, shp).unwrap_or_else(|e| panic!("write shp: {e}"));
    std::fs::write(dir.join(format!("{stem}.shx")), shx)
        .unwrap_or_else(|e| panic!("write shx: {e}"));
    if let Some(dbf) = dbf {
        std::fs::write(dir.join(format!("{stem}.dbf")), dbf)
            .unwrap_or_else(|e| panic!("write dbf: {e}"));
    }
    path
}
