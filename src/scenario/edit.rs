//! Every change to a [`ScenarioDocument`] as an [`Edit`], carried out through a [`History`]
//! that can undo and redo it. An edit is checked first and refused whole when invalid, so a
//! document only ever holds valid incidents and zones.
//!
//! Undo restores whole items (the incident or zone as it was, at the index it had) rather
//! than applying inverse arithmetic, so undoing a move gives back the exact coordinates, not
//! `x + d - d`.

use std::collections::VecDeque;

use crate::i18n::Lang;

use super::document::{
    DocumentError, Incident, IncidentFields, IncidentId, LonLat, ScenarioDocument, Zone, ZoneId,
    ZoneShape, ZoneStatus, check_name, check_radius,
};

/// One change a user makes to the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Appends an incident; its id must be unused (see
    /// [`ScenarioDocument::unused_incident_id`]).
    AddIncident(Incident),
    /// Removes an incident (undo puts it back at its place in the list).
    RemoveIncident(IncidentId),
    /// Moves an incident to a new position.
    MoveIncident { id: IncidentId, to: LonLat },
    /// Replaces kind, time, note, closed flag and radius override.
    UpdateIncident {
        id: IncidentId,
        fields: IncidentFields,
    },
    /// Appends a zone; its id must be unused (see [`ScenarioDocument::unused_zone_id`]).
    AddZone(Zone),
    /// Removes a zone (undo puts it back at its place in the list).
    RemoveZone(ZoneId),
    /// Moves one vertex of a polygon or buffer zone.
    MoveVertex {
        zone: ZoneId,
        index: usize,
        to: LonLat,
    },
    /// Inserts a vertex before `index` (`index` = vertex count appends).
    InsertVertex {
        zone: ZoneId,
        index: usize,
        at: LonLat,
    },
    /// Deletes a vertex; refused when fewer than 3 distinct vertices would remain.
    DeleteVertex { zone: ZoneId, index: usize },
    /// Shifts the whole zone by degrees of longitude and latitude.
    MoveZone { zone: ZoneId, dlon: f64, dlat: f64 },
    /// Renames a zone; a blank name is refused.
    RenameZone { zone: ZoneId, name: String },
    /// Sets planned / ordered / in progress / cleared.
    SetZoneStatus { zone: ZoneId, status: ZoneStatus },
    /// Sets a circle zone's radius in metres; refused for other shapes.
    SetCircleRadius { zone: ZoneId, radius_m: f64 },
}

/// What kind of edit a step was, to label the undo and redo buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    AddIncident,
    RemoveIncident,
    MoveIncident,
    UpdateIncident,
    AddZone,
    RemoveZone,
    MoveVertex,
    InsertVertex,
    DeleteVertex,
    MoveZone,
    RenameZone,
    SetZoneStatus,
    SetCircleRadius,
}

impl EditKind {
    /// The name of the edit for "Undo …" / "Redo …".
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            EditKind::AddIncident => lang.pick("添加事件", "add incident"),
            EditKind::RemoveIncident => lang.pick("删除事件", "remove incident"),
            EditKind::MoveIncident => lang.pick("移动事件", "move incident"),
            EditKind::UpdateIncident => lang.pick("编辑事件", "edit incident"),
            EditKind::AddZone => lang.pick("添加撤离区", "add zone"),
            EditKind::RemoveZone => lang.pick("删除撤离区", "remove zone"),
            EditKind::MoveVertex => lang.pick("移动顶点", "move vertex"),
            EditKind::InsertVertex => lang.pick("插入顶点", "insert vertex"),
            EditKind::DeleteVertex => lang.pick("删除顶点", "delete vertex"),
            EditKind::MoveZone => lang.pick("移动撤离区", "move zone"),
            EditKind::RenameZone => lang.pick("重命名撤离区", "rename zone"),
            EditKind::SetZoneStatus => lang.pick("更改撤离状态", "set zone status"),
            EditKind::SetCircleRadius => lang.pick("更改半径", "set radius"),
        }
    }
}

impl Edit {
    /// The kind of this edit.
    pub fn kind(&self) -> EditKind {
        match self {
            Edit::AddIncident(_) => EditKind::AddIncident,
            Edit::RemoveIncident(_) => EditKind::RemoveIncident,
            Edit::MoveIncident { .. } => EditKind::MoveIncident,
            Edit::UpdateIncident { .. } => EditKind::UpdateIncident,
            Edit::AddZone(_) => EditKind::AddZone,
            Edit::RemoveZone(_) => EditKind::RemoveZone,
            Edit::MoveVertex { .. } => EditKind::MoveVertex,
            Edit::InsertVertex { .. } => EditKind::InsertVertex,
            Edit::DeleteVertex { .. } => EditKind::DeleteVertex,
            Edit::MoveZone { .. } => EditKind::MoveZone,
            Edit::RenameZone { .. } => EditKind::RenameZone,
            Edit::SetZoneStatus { .. } => EditKind::SetZoneStatus,
            Edit::SetCircleRadius { .. } => EditKind::SetCircleRadius,
        }
    }

    /// What a continuous gesture (a drag, a radius slider) changes, so its frames can merge.
    fn merge_key(&self) -> Option<MergeKey> {
        match *self {
            Edit::MoveIncident { id, .. } => Some(MergeKey::Incident(id)),
            Edit::MoveVertex { zone, index, .. } => Some(MergeKey::Vertex(zone, index)),
            Edit::MoveZone { zone, .. } => Some(MergeKey::Zone(zone)),
            Edit::SetCircleRadius { zone, .. } => Some(MergeKey::Radius(zone)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MergeKey {
    Incident(IncidentId),
    Vertex(ZoneId, usize),
    Zone(ZoneId),
    Radius(ZoneId),
}

/// A primitive, exactly reversible change: applying one returns the change that undoes it.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    InsertIncident { index: usize, incident: Incident },
    RemoveIncident { index: usize },
    ReplaceIncident { index: usize, incident: Incident },
    InsertZone { index: usize, zone: Zone },
    RemoveZone { index: usize },
    ReplaceZone { index: usize, zone: Zone },
}

impl Change {
    /// Whether the change fits the document (indices in range), so applying cannot fail.
    fn fits(&self, doc: &ScenarioDocument) -> bool {
        match self {
            Change::InsertIncident { index, .. } => *index <= doc.incidents.len(),
            Change::RemoveIncident { index } | Change::ReplaceIncident { index, .. } => {
                *index < doc.incidents.len()
            }
            Change::InsertZone { index, .. } => *index <= doc.zones.len(),
            Change::RemoveZone { index } | Change::ReplaceZone { index, .. } => {
                *index < doc.zones.len()
            }
        }
    }

    /// Applies a change that [`Change::fits`] and returns its inverse.
    fn apply(self, doc: &mut ScenarioDocument) -> Change {
        match self {
            Change::InsertIncident { index, incident } => {
                doc.incidents.insert(index, incident);
                Change::RemoveIncident { index }
            }
            Change::RemoveIncident { index } => Change::InsertIncident {
                index,
                incident: doc.incidents.remove(index),
            },
            Change::ReplaceIncident { index, incident } => Change::ReplaceIncident {
                index,
                incident: std::mem::replace(&mut doc.incidents[index], incident),
            },
            Change::InsertZone { index, zone } => {
                doc.zones.insert(index, zone);
                Change::RemoveZone { index }
            }
            Change::RemoveZone { index } => Change::InsertZone {
                index,
                zone: doc.zones.remove(index),
            },
            Change::ReplaceZone { index, zone } => Change::ReplaceZone {
                index,
                zone: std::mem::replace(&mut doc.zones[index], zone),
            },
        }
    }
}

/// Checks an edit against the document and turns it into the change that carries it out.
/// `Ok(None)` when the edit would change nothing.
fn plan(doc: &ScenarioDocument, edit: &Edit) -> Result<Option<Change>, DocumentError> {
    let incident_at = |id: IncidentId| {
        doc.incident_index(id)
            .ok_or(DocumentError::UnknownIncident(id))
    };
    let zone_at = |id: ZoneId| doc.zone_index(id).ok_or(DocumentError::UnknownZone(id));
    let change = match edit {
        Edit::AddIncident(incident) => {
            if doc.incident(incident.id).is_some() {
                return Err(DocumentError::DuplicateIncident(incident.id));
            }
            incident.validate()?;
            Change::InsertIncident {
                index: doc.incidents.len(),
                incident: incident.clone(),
            }
        }
        Edit::RemoveIncident(id) => Change::RemoveIncident {
            index: incident_at(*id)?,
        },
        Edit::MoveIncident { id, to } => {
            let index = incident_at(*id)?;
            to.check()?;
            let mut incident = doc.incidents[index].clone();
            incident.position = *to;
            Change::ReplaceIncident { index, incident }
        }
        Edit::UpdateIncident { id, fields } => {
            let index = incident_at(*id)?;
            fields.validate()?;
            let mut incident = doc.incidents[index].clone();
            incident.fields = fields.clone();
            Change::ReplaceIncident { index, incident }
        }
        Edit::AddZone(zone) => {
            if doc.zone(zone.id).is_some() {
                return Err(DocumentError::DuplicateZone(zone.id));
            }
            zone.validate()?;
            Change::InsertZone {
                index: doc.zones.len(),
                zone: zone.clone(),
            }
        }
        Edit::RemoveZone(id) => Change::RemoveZone {
            index: zone_at(*id)?,
        },
        Edit::MoveVertex { zone, index, to } => {
            to.check()?;
            edit_ring(doc, *zone, *index, false, |ring| ring[*index] = *to)?
        }
        Edit::InsertVertex { zone, index, at } => {
            at.check()?;
            edit_ring(doc, *zone, *index, true, |ring| ring.insert(*index, *at))?
        }
        Edit::DeleteVertex { zone, index } => edit_ring(doc, *zone, *index, false, |ring| {
            ring.remove(*index);
        })?,
        Edit::MoveZone { zone, dlon, dlat } => {
            let index = zone_at(*zone)?;
            let mut moved = doc.zones[index].clone();
            let shift = |p: &mut LonLat| {
                p.lon += dlon;
                p.lat += dlat;
            };
            match &mut moved.shape {
                ZoneShape::Polygon { ring } | ZoneShape::Buffer { ring, .. } => {
                    ring.iter_mut().for_each(shift)
                }
                ZoneShape::Circle { centre, .. } => shift(centre),
            }
            moved.shape.validate()?;
            Change::ReplaceZone { index, zone: moved }
        }
        Edit::RenameZone { zone, name } => {
            let index = zone_at(*zone)?;
            check_name(name)?;
            let mut renamed = doc.zones[index].clone();
            renamed.name = name.clone();
            Change::ReplaceZone {
                index,
                zone: renamed,
            }
        }
        Edit::SetZoneStatus { zone, status } => {
            let index = zone_at(*zone)?;
            let mut changed = doc.zones[index].clone();
            changed.status = *status;
            Change::ReplaceZone {
                index,
                zone: changed,
            }
        }
        Edit::SetCircleRadius { zone, radius_m } => {
            let index = zone_at(*zone)?;
            check_radius(*radius_m)?;
            let mut changed = doc.zones[index].clone();
            match &mut changed.shape {
                ZoneShape::Circle { radius_m: r, .. } => *r = *radius_m,
                _ => return Err(DocumentError::NotACircle(*zone)),
            }
            Change::ReplaceZone {
                index,
                zone: changed,
            }
        }
    };
    let unchanged = match &change {
        Change::ReplaceIncident { index, incident } => doc.incidents[*index] == *incident,
        Change::ReplaceZone { index, zone } => doc.zones[*index] == *zone,
        _ => false,
    };
    Ok((!unchanged).then_some(change))
}

/// Plans a change to a zone's ring: checks the zone has one and the vertex index is in range
/// (`index == len` allowed when `allow_end`), applies `change` to a copy and validates it.
fn edit_ring(
    doc: &ScenarioDocument,
    zone: ZoneId,
    index: usize,
    allow_end: bool,
    change: impl FnOnce(&mut Vec<LonLat>),
) -> Result<Change, DocumentError> {
    let at = doc
        .zone_index(zone)
        .ok_or(DocumentError::UnknownZone(zone))?;
    let mut edited = doc.zones[at].clone();
    let ring = edited
        .shape
        .ring_mut()
        .ok_or(DocumentError::NotEditableRing(zone))?;
    let len = ring.len();
    if index > len || (index == len && !allow_end) {
        return Err(DocumentError::NoSuchVertex { zone, index, len });
    }
    change(ring);
    edited.shape.validate()?;
    Ok(Change::ReplaceZone {
        index: at,
        zone: edited,
    })
}

/// One undoable step.
#[derive(Debug, Clone)]
struct Step {
    kind: EditKind,
    undo: Change,
    redo: Change,
}

/// What [`History::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The document changed and a new undo step was recorded.
    NewStep,
    /// The document changed and the change joined the previous step (a continuing drag).
    Merged,
    /// The edit was valid but would change nothing; no step was recorded.
    Unchanged,
}

/// Why undo or redo could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    /// The document no longer matches the history (it was changed outside it, or another
    /// document was passed). Nothing was changed.
    #[error("the undo history does not match this document")]
    Mismatch,
}

/// Undo and redo stacks for one document. Every change to the document must go through
/// [`History::apply`], [`History::undo`] and [`History::redo`] for undo to stay exact.
#[derive(Debug, Clone)]
pub struct History {
    undo: VecDeque<Step>,
    redo: Vec<Step>,
    max_steps: usize,
    /// The gesture the newest undo step belongs to, while it may still grow.
    open_gesture: Option<MergeKey>,
    revision: u64,
}

impl Default for History {
    fn default() -> Self {
        History::new()
    }
}

impl History {
    /// Undo steps kept by [`History::new`]; older ones are forgotten.
    pub const DEFAULT_MAX_STEPS: usize = 1000;

    /// An empty history keeping up to [`History::DEFAULT_MAX_STEPS`] undo steps.
    pub fn new() -> History {
        History::with_max_steps(History::DEFAULT_MAX_STEPS)
    }

    /// An empty history keeping up to `max_steps` undo steps (at least 1).
    pub fn with_max_steps(max_steps: usize) -> History {
        History {
            undo: VecDeque::new(),
            redo: Vec::new(),
            max_steps: max_steps.max(1),
            open_gesture: None,
            revision: 0,
        }
    }

    /// Checks and applies an edit as a new undo step; clears the redo stack. An invalid edit
    /// is refused and leaves document and history as they were.
    pub fn apply(
        &mut self,
        doc: &mut ScenarioDocument,
        edit: &Edit,
    ) -> Result<Applied, DocumentError> {
        self.apply_inner(doc, edit, false)
    }

    /// Like [`History::apply`], but when the previous step was the same continuing gesture
    /// (moving the same incident, the same vertex of the same zone, the same whole zone, or
    /// the same circle's radius) and nothing else happened since, this edit joins that step,
    /// so one undo takes the whole drag back. The UI calls it for every drag frame after the
    /// first.
    pub fn apply_merging(
        &mut self,
        doc: &mut ScenarioDocument,
        edit: &Edit,
    ) -> Result<Applied, DocumentError> {
        self.apply_inner(doc, edit, true)
    }

    fn apply_inner(
        &mut self,
        doc: &mut ScenarioDocument,
        edit: &Edit,
        merge: bool,
    ) -> Result<Applied, DocumentError> {
        let Some(change) = plan(doc, edit)? else {
            return Ok(Applied::Unchanged);
        };
        let key = edit.merge_key();
        let merges = merge && key.is_some() && key == self.open_gesture && !self.undo.is_empty();
        let redo = change.clone();
        let undo = change.apply(doc);
        self.revision += 1;
        self.redo.clear();
        self.open_gesture = key;
        if merges && let Some(last) = self.undo.back_mut() {
            // The first frame's undo already restores the state before the gesture.
            last.redo = redo;
            return Ok(Applied::Merged);
        }
        self.undo.push_back(Step {
            kind: edit.kind(),
            undo,
            redo,
        });
        while self.undo.len() > self.max_steps {
            self.undo.pop_front();
        }
        Ok(Applied::NewStep)
    }

    /// Undoes the newest step. `Ok(false)` when there is nothing to undo.
    pub fn undo(&mut self, doc: &mut ScenarioDocument) -> Result<bool, HistoryError> {
        let Some(step) = self.undo.back() else {
            return Ok(false);
        };
        if !step.undo.fits(doc) {
            return Err(HistoryError::Mismatch);
        }
        if let Some(step) = self.undo.pop_back() {
            step.undo.clone().apply(doc);
            self.redo.push(step);
            self.revision += 1;
        }
        self.open_gesture = None;
        Ok(true)
    }

    /// Redoes the newest undone step. `Ok(false)` when there is nothing to redo.
    pub fn redo(&mut self, doc: &mut ScenarioDocument) -> Result<bool, HistoryError> {
        let Some(step) = self.redo.last() else {
            return Ok(false);
        };
        if !step.redo.fits(doc) {
            return Err(HistoryError::Mismatch);
        }
        if let Some(step) = self.redo.pop() {
            step.redo.clone().apply(doc);
            self.undo.push_back(step);
            self.revision += 1;
        }
        self.open_gesture = None;
        Ok(true)
    }

    /// Ends the current gesture: the next [`History::apply_merging`] starts a new step.
    pub fn end_gesture(&mut self) {
        self.open_gesture = None;
    }

    /// Forgets all steps (after loading another project).
    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.open_gesture = None;
        self.revision += 1;
    }

    /// Whether there is a step to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is a step to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Number of steps that can be undone.
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Number of steps that can be redone.
    pub fn redo_len(&self) -> usize {
        self.redo.len()
    }

    /// What the next undo takes back, for the button's label.
    pub fn undo_kind(&self) -> Option<EditKind> {
        self.undo.back().map(|s| s.kind)
    }

    /// What the next redo does again.
    pub fn redo_kind(&self) -> Option<EditKind> {
        self.redo.last().map(|s| s.kind)
    }

    /// Grows by one whenever the document changes through this history (edit, merge, undo,
    /// redo, clear): autosave compares it with the revision it last saved.
    pub fn revision(&self) -> u64 {
        self.revision
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::IncidentKind;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn ring(lon: f64, lat: f64, n: usize) -> Vec<LonLat> {
        (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                LonLat::new(lon + 0.01 * a.cos(), lat + 0.01 * a.sin())
            })
            .collect()
    }

    fn zone(id: u64, shape: ZoneShape) -> Zone {
        Zone {
            id: ZoneId(id),
            name: format!("zone {id}"),
            status: ZoneStatus::Planned,
            shape,
        }
    }

    fn incident(id: u64, lon: f64, lat: f64) -> Incident {
        Incident {
            id: IncidentId(id),
            position: LonLat::new(lon, lat),
            fields: IncidentFields {
                kind: IncidentKind::Hazchem,
                time: "2026-11-28T14:05:00+08:00".into(),
                note: String::new(),
                closed: false,
                radius_m: None,
            },
        }
    }

    fn start_document() -> ScenarioDocument {
        ScenarioDocument {
            incidents: vec![incident(1, 117.5, 36.6), incident(2, 117.6, 36.7)],
            zones: vec![
                zone(1, ZoneShape::polygon(ring(117.5, 36.6, 5))),
                zone(
                    2,
                    ZoneShape::Circle {
                        centre: LonLat::new(117.55, 36.65),
                        radius_m: 800.0,
                    },
                ),
                zone(3, ZoneShape::buffer("road G104", ring(117.52, 36.61, 3))),
            ],
        }
    }

    /// A position, now and then one no document may hold.
    fn random_position(rng: &mut ChaCha8Rng) -> LonLat {
        match rng.random_range(0..20) {
            0 => LonLat::new(f64::NAN, 36.0),
            1 => LonLat::new(117.0, 91.0),
            2 => LonLat::new(f64::INFINITY, 0.0),
            _ => LonLat::new(
                117.5 + rng.random_range(-0.05..0.05),
                36.6 + rng.random_range(-0.05..0.05),
            ),
        }
    }

    /// A random edit: mostly on existing items, sometimes on missing ids, bad indices or
    /// bad values, so refusals get exercised too.
    fn random_edit(rng: &mut ChaCha8Rng, doc: &ScenarioDocument) -> Edit {
        let zone_id = |rng: &mut ChaCha8Rng| {
            if doc.zones.is_empty() || rng.random_range(0..10) == 0 {
                ZoneId(rng.random_range(0..50))
            } else {
                doc.zones[rng.random_range(0..doc.zones.len())].id
            }
        };
        let incident_id = |rng: &mut ChaCha8Rng| {
            if doc.incidents.is_empty() || rng.random_range(0..10) == 0 {
                IncidentId(rng.random_range(0..50))
            } else {
                doc.incidents[rng.random_range(0..doc.incidents.len())].id
            }
        };
        let vertex = |rng: &mut ChaCha8Rng, z: ZoneId| {
            let len = doc
                .zone(z)
                .and_then(|z| z.shape.ring())
                .map_or(3, <[LonLat]>::len);
            rng.random_range(0..len + 2)
        };
        match rng.random_range(0..13) {
            0 => {
                let mut i = incident(0, 0.0, 0.0);
                i.id = if rng.random_bool(0.9) {
                    doc.unused_incident_id()
                } else {
                    incident_id(rng)
                };
                i.position = random_position(rng);
                Edit::AddIncident(i)
            }
            1 => Edit::RemoveIncident(incident_id(rng)),
            2 => Edit::MoveIncident {
                id: incident_id(rng),
                to: random_position(rng),
            },
            3 => Edit::UpdateIncident {
                id: incident_id(rng),
                fields: IncidentFields {
                    kind: IncidentKind::ALL[rng.random_range(0..8)],
                    time: if rng.random_bool(0.9) {
                        format!("2026-11-{:02}T10:00Z", rng.random_range(1..=31))
                    } else {
                        "soon".into()
                    },
                    note: format!("note {}", rng.random_range(0..5)),
                    closed: rng.random_bool(0.3),
                    radius_m: match rng.random_range(0..4) {
                        0 => None,
                        1 => Some(-5.0),
                        _ => Some(rng.random_range(100.0..3000.0)),
                    },
                },
            },
            4 => {
                let id = if rng.random_bool(0.9) {
                    doc.unused_zone_id()
                } else {
                    zone_id(rng)
                };
                let shape = if rng.random_bool(0.5) {
                    let n = rng.random_range(2..8);
                    ZoneShape::polygon(ring(117.5, 36.6, n))
                } else {
                    ZoneShape::Circle {
                        centre: random_position(rng),
                        radius_m: rng.random_range(-100.0..5000.0),
                    }
                };
                Edit::AddZone(zone(id.0, shape))
            }
            5 => Edit::RemoveZone(zone_id(rng)),
            6 => {
                let z = zone_id(rng);
                Edit::MoveVertex {
                    zone: z,
                    index: vertex(rng, z),
                    to: random_position(rng),
                }
            }
            7 => {
                let z = zone_id(rng);
                Edit::InsertVertex {
                    zone: z,
                    index: vertex(rng, z),
                    at: random_position(rng),
                }
            }
            8 => {
                let z = zone_id(rng);
                Edit::DeleteVertex {
                    zone: z,
                    index: vertex(rng, z),
                }
            }
            9 => Edit::MoveZone {
                zone: zone_id(rng),
                dlon: rng.random_range(-0.01..0.01),
                dlat: if rng.random_range(0..20) == 0 {
                    100.0
                } else {
                    rng.random_range(-0.01..0.01)
                },
            },
            10 => Edit::RenameZone {
                zone: zone_id(rng),
                name: ["", "  ", "北区", "East"][rng.random_range(0..4)].into(),
            },
            11 => Edit::SetZoneStatus {
                zone: zone_id(rng),
                status: ZoneStatus::ALL[rng.random_range(0..4)],
            },
            _ => Edit::SetCircleRadius {
                zone: zone_id(rng),
                radius_m: rng.random_range(-10.0..2000.0),
            },
        }
    }

    /// The next frame of a drag: the same target, a new place.
    fn continue_gesture(rng: &mut ChaCha8Rng, edit: &Edit) -> Option<Edit> {
        let step = |rng: &mut ChaCha8Rng| rng.random_range(-0.002..0.002);
        match edit.clone() {
            Edit::MoveIncident { id, to } => Some(Edit::MoveIncident {
                id,
                to: LonLat::new(to.lon + step(rng), to.lat + step(rng)),
            }),
            Edit::MoveVertex { zone, index, to } => Some(Edit::MoveVertex {
                zone,
                index,
                to: LonLat::new(to.lon + step(rng), to.lat + step(rng)),
            }),
            Edit::MoveZone { zone, .. } => Some(Edit::MoveZone {
                zone,
                dlon: step(rng),
                dlat: step(rng),
            }),
            Edit::SetCircleRadius { zone, radius_m } => Some(Edit::SetCircleRadius {
                zone,
                radius_m: radius_m + rng.random_range(-50.0..50.0),
            }),
            _ => None,
        }
    }

    #[test]
    fn random_edit_sequences_undo_and_redo_exactly() {
        let mut refused_total = 0;
        let mut merged_total = 0;
        for seed in 0..40 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let initial = start_document();
            let mut doc = initial.clone();
            let mut history = History::new();
            // The document after each recorded step, oldest first; [0] is the start.
            let mut states = vec![initial.clone()];
            let mut previous: Option<Edit> = None;
            for _ in 0..rng.random_range(20..120) {
                // Often continue the previous gesture, as a drag does frame after frame.
                let continued = previous
                    .as_ref()
                    .filter(|_| rng.random_bool(0.4))
                    .and_then(|p| continue_gesture(&mut rng, p));
                let merging = continued.is_some() || rng.random_bool(0.1);
                let edit = continued.unwrap_or_else(|| random_edit(&mut rng, &doc));
                previous = Some(edit.clone());
                let before = doc.clone();
                let steps_before = history.undo_len();
                let result = if merging {
                    history.apply_merging(&mut doc, &edit)
                } else {
                    history.apply(&mut doc, &edit)
                };
                match result {
                    Err(_) => {
                        refused_total += 1;
                        assert_eq!(doc, before, "refused {edit:?} changed the document");
                        assert_eq!(history.undo_len(), steps_before);
                    }
                    Ok(Applied::Unchanged) => assert_eq!(doc, before),
                    Ok(Applied::NewStep) => {
                        assert_ne!(doc, before);
                        assert_eq!(history.undo_len(), steps_before + 1);
                        states.push(doc.clone());
                    }
                    Ok(Applied::Merged) => {
                        merged_total += 1;
                        assert!(merging, "{edit:?} merged without being asked");
                        assert_eq!(history.undo_len(), steps_before);
                        *states.last_mut().unwrap() = doc.clone();
                    }
                }
                assert!(doc.validate().is_ok(), "{:?}", doc.validate());
            }
            let last = doc.clone();
            assert_eq!(history.undo_len() + 1, states.len());
            for expected in states.iter().rev().skip(1) {
                assert!(history.undo(&mut doc).unwrap());
                assert_eq!(&doc, expected);
            }
            assert!(!history.undo(&mut doc).unwrap());
            assert_eq!(doc, initial, "seed {seed}: undo all gives the start back");
            for expected in states.iter().skip(1) {
                assert!(history.redo(&mut doc).unwrap());
                assert_eq!(&doc, expected);
            }
            assert!(!history.redo(&mut doc).unwrap());
            assert_eq!(doc, last, "seed {seed}: redo all gives the end back");
        }
        assert!(refused_total > 100, "refusals exercised: {refused_total}");
        assert!(merged_total > 50, "merges exercised: {merged_total}");
    }

    #[test]
    fn a_new_edit_after_undo_clears_redo() {
        let mut doc = start_document();
        let mut history = History::new();
        let to = LonLat::new(117.51, 36.61);
        history
            .apply(
                &mut doc,
                &Edit::MoveIncident {
                    id: IncidentId(1),
                    to,
                },
            )
            .unwrap();
        history
            .apply(&mut doc, &Edit::RemoveZone(ZoneId(2)))
            .unwrap();
        assert!(history.undo(&mut doc).unwrap());
        assert!(history.can_redo());
        assert_eq!(history.redo_kind(), Some(EditKind::RemoveZone));
        history
            .apply(
                &mut doc,
                &Edit::RenameZone {
                    zone: ZoneId(1),
                    name: "北区".into(),
                },
            )
            .unwrap();
        assert!(!history.can_redo());
        assert!(!history.redo(&mut doc).unwrap());
        assert!(
            doc.zone(ZoneId(2)).is_some(),
            "the undone removal stays undone"
        );
        assert_eq!(history.undo_kind(), Some(EditKind::RenameZone));
    }

    #[test]
    fn a_drag_is_one_undo_step_but_separate_drags_are_not() {
        let initial = start_document();
        let mut doc = initial.clone();
        let mut history = History::new();
        let start = doc.zone(ZoneId(1)).unwrap().shape.ring().unwrap()[2];
        for i in 1..=10 {
            let to = LonLat::new(start.lon + 0.001 * i as f64, start.lat);
            let edit = Edit::MoveVertex {
                zone: ZoneId(1),
                index: 2,
                to,
            };
            let applied = history.apply_merging(&mut doc, &edit).unwrap();
            assert_eq!(
                applied,
                if i == 1 {
                    Applied::NewStep
                } else {
                    Applied::Merged
                }
            );
        }
        let after_first_drag = doc.clone();
        assert_eq!(history.undo_len(), 1);
        // Another vertex is another gesture.
        history
            .apply_merging(
                &mut doc,
                &Edit::MoveVertex {
                    zone: ZoneId(1),
                    index: 3,
                    to: LonLat::new(117.4, 36.5),
                },
            )
            .unwrap();
        assert_eq!(history.undo_len(), 2);
        history.end_gesture();
        history
            .apply_merging(
                &mut doc,
                &Edit::MoveVertex {
                    zone: ZoneId(1),
                    index: 3,
                    to: LonLat::new(117.41, 36.5),
                },
            )
            .unwrap();
        assert_eq!(history.undo_len(), 3, "end_gesture starts a new step");
        history.undo(&mut doc).unwrap();
        history.undo(&mut doc).unwrap();
        assert_eq!(doc, after_first_drag);
        history.undo(&mut doc).unwrap();
        assert_eq!(doc, initial);
        // After an undo, a drag does not merge into a step it cannot see.
        history
            .apply_merging(
                &mut doc,
                &Edit::MoveVertex {
                    zone: ZoneId(1),
                    index: 2,
                    to: LonLat::new(117.3, 36.5),
                },
            )
            .unwrap();
        assert_eq!(history.undo_len(), 1);
        assert_eq!(history.redo_len(), 0);
    }

    #[test]
    fn each_edit_does_what_it_says() {
        let mut doc = start_document();
        let mut h = History::new();
        let to = LonLat::new(117.0, 36.0);
        h.apply(
            &mut doc,
            &Edit::MoveVertex {
                zone: ZoneId(1),
                index: 0,
                to,
            },
        )
        .unwrap();
        assert_eq!(doc.zone(ZoneId(1)).unwrap().shape.ring().unwrap()[0], to);
        h.apply(
            &mut doc,
            &Edit::InsertVertex {
                zone: ZoneId(1),
                index: 5,
                at: to,
            },
        )
        .unwrap();
        let ring = doc.zone(ZoneId(1)).unwrap().shape.ring().unwrap();
        assert_eq!((ring.len(), ring[5]), (6, to));
        h.apply(
            &mut doc,
            &Edit::DeleteVertex {
                zone: ZoneId(1),
                index: 5,
            },
        )
        .unwrap();
        assert_eq!(doc.zone(ZoneId(1)).unwrap().shape.ring().unwrap().len(), 5);
        h.apply(
            &mut doc,
            &Edit::MoveZone {
                zone: ZoneId(2),
                dlon: 0.5,
                dlat: -0.25,
            },
        )
        .unwrap();
        assert!(matches!(
            doc.zone(ZoneId(2)).unwrap().shape,
            ZoneShape::Circle { centre, .. } if centre == LonLat::new(118.05, 36.4)
        ));
        h.apply(
            &mut doc,
            &Edit::SetCircleRadius {
                zone: ZoneId(2),
                radius_m: 1200.0,
            },
        )
        .unwrap();
        h.apply(
            &mut doc,
            &Edit::SetZoneStatus {
                zone: ZoneId(2),
                status: ZoneStatus::Ordered,
            },
        )
        .unwrap();
        let z = doc.zone(ZoneId(2)).unwrap();
        assert_eq!(z.status, ZoneStatus::Ordered);
        assert!(matches!(z.shape, ZoneShape::Circle { radius_m, .. } if radius_m == 1200.0));
        let mut fields = doc.incident(IncidentId(2)).unwrap().fields.clone();
        fields.closed = true;
        fields.radius_m = Some(1500.0);
        h.apply(
            &mut doc,
            &Edit::UpdateIncident {
                id: IncidentId(2),
                fields,
            },
        )
        .unwrap();
        let i = doc.incident(IncidentId(2)).unwrap();
        assert!(i.fields.closed);
        assert_eq!(i.radius_m(), 1500.0);
        assert_eq!(h.undo_len(), 7);
    }

    #[test]
    fn invalid_edits_are_refused_and_change_nothing() {
        let doc0 = start_document();
        let mut doc = doc0.clone();
        let mut h = History::new();
        let refused = [
            // The buffer (zone 3) has exactly three vertices.
            Edit::DeleteVertex {
                zone: ZoneId(3),
                index: 0,
            },
            Edit::MoveVertex {
                zone: ZoneId(3),
                index: 0,
                to: doc0.zones[2].shape.ring().unwrap()[1],
            },
            Edit::MoveVertex {
                zone: ZoneId(1),
                index: 5,
                to: LonLat::new(117.0, 36.0),
            },
            Edit::InsertVertex {
                zone: ZoneId(2),
                index: 0,
                at: LonLat::new(117.0, 36.0),
            },
            Edit::SetCircleRadius {
                zone: ZoneId(1),
                radius_m: 100.0,
            },
            Edit::SetCircleRadius {
                zone: ZoneId(2),
                radius_m: f64::NAN,
            },
            Edit::MoveIncident {
                id: IncidentId(1),
                to: LonLat::new(181.0, 0.0),
            },
            Edit::MoveIncident {
                id: IncidentId(9),
                to: LonLat::new(117.0, 36.0),
            },
            Edit::RenameZone {
                zone: ZoneId(1),
                name: " ".into(),
            },
            Edit::MoveZone {
                zone: ZoneId(1),
                dlon: 0.0,
                dlat: 60.0,
            },
            Edit::AddZone(zone(1, ZoneShape::polygon(ring(117.0, 36.0, 4)))),
            Edit::AddIncident(incident(2, 117.0, 36.0)),
            Edit::RemoveZone(ZoneId(99)),
        ];
        for edit in &refused {
            assert!(h.apply(&mut doc, edit).is_err(), "{edit:?} was accepted");
            assert_eq!(doc, doc0);
        }
        assert!(!h.can_undo());
        assert_eq!(h.revision(), 0);
    }

    #[test]
    fn undo_against_another_document_is_refused() {
        let mut doc = start_document();
        let mut h = History::new();
        h.apply(&mut doc, &Edit::RemoveZone(ZoneId(3))).unwrap();
        let mut other = ScenarioDocument::new();
        // Undoing the removal inserts at index 2, which an empty document does not have.
        assert_eq!(h.undo(&mut other), Err(HistoryError::Mismatch));
        assert_eq!(other, ScenarioDocument::new());
        assert!(h.can_undo());
    }

    #[test]
    fn the_oldest_steps_are_forgotten_past_the_limit() {
        let mut doc = start_document();
        let mut h = History::with_max_steps(3);
        for i in 0..5 {
            h.apply(
                &mut doc,
                &Edit::MoveIncident {
                    id: IncidentId(1),
                    to: LonLat::new(117.0 + f64::from(i) * 0.01, 36.0),
                },
            )
            .unwrap();
        }
        assert_eq!(h.undo_len(), 3);
        while h.undo(&mut doc).unwrap() {}
        assert_eq!(
            doc.incident(IncidentId(1)).unwrap().position,
            LonLat::new(117.01, 36.0)
        );
    }
}
