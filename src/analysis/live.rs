//! Response areas that follow a dragged station: each station's own time grid is kept, so
//! moving one station recomputes only that station's reach and grid; the bands are then
//! traced again from the cell-wise least of the grids (the same least time as one
//! multi-station reach gives, since each place's best time is its best station's time).

use super::isochrone::{AreaMode, AreaOptions, BandArea, TimeGrid, band_areas, sorted_bands};
use super::reach::{Snap, reach};
use super::road_graph::RoadGraph;

/// Each station's time grid, for recomputing areas quickly when one station moves or is
/// switched off.
#[derive(Debug, Clone)]
pub struct StationAreas {
    options: AreaOptions,
    /// Band limits in minutes, ascending.
    bands: Vec<f64>,
    snaps: Vec<Option<Snap>>,
    /// Station `i`'s grid, alone, up to the largest band; `None` when it is not snapped.
    grids: Vec<Option<TimeGrid>>,
    /// The least of all grids but one station's (the one last moved), so that dragging
    /// it merges two grids instead of all of them.
    others: Option<(usize, TimeGrid)>,
    /// The least of all grids.
    merged: TimeGrid,
}

impl StationAreas {
    /// Computes every snapped station's grid (station `i` is `snaps[i]`).
    pub fn new(graph: &RoadGraph, snaps: &[Option<Snap>], options: &AreaOptions) -> Self {
        let mut areas = StationAreas {
            options: options.clone(),
            bands: sorted_bands(options),
            snaps: snaps.to_vec(),
            grids: vec![None; snaps.len()],
            others: None,
            merged: TimeGrid::least_of(&[]),
        };
        for s in 0..snaps.len() {
            areas.grids[s] = areas.station_grid(graph, s);
        }
        areas.merged = TimeGrid::least_of(areas.grids.iter().flatten());
        areas
    }

    /// The stations' snaps, as last set.
    pub fn snaps(&self) -> &[Option<Snap>] {
        &self.snaps
    }

    /// Moves station `station` to `snap` (`None`: out of service) and recomputes its grid
    /// only. Returns false, changing nothing, when there is no such station.
    pub fn set_station(&mut self, graph: &RoadGraph, station: usize, snap: Option<Snap>) -> bool {
        if station >= self.snaps.len() {
            return false;
        }
        self.snaps[station] = snap;
        self.grids[station] = self.station_grid(graph, station);
        if self.others.as_ref().is_none_or(|(s, _)| *s != station) {
            let rest = self
                .grids
                .iter()
                .enumerate()
                .filter(|(s, _)| *s != station)
                .filter_map(|(_, g)| g.as_ref());
            self.others = Some((station, TimeGrid::least_of(rest)));
        }
        if let Some((_, rest)) = &self.others {
            self.merged = TimeGrid::least_of(
                [Some(rest), self.grids[station].as_ref()]
                    .into_iter()
                    .flatten(),
            );
        }
        true
    }

    /// The areas by band in the options' mode, as [`super::isochrone::response_areas`]
    /// gives them.
    pub fn areas(&self, graph: &RoadGraph) -> Vec<BandArea> {
        let mut out = Vec::new();
        match self.options.mode {
            AreaMode::Dissolve | AreaMode::Split => {
                let grid = &self.merged;
                if self.options.mode == AreaMode::Dissolve {
                    band_areas(graph, grid, &self.bands, None, false, &mut out);
                } else {
                    for (s, g) in self.grids.iter().enumerate() {
                        if g.is_some() {
                            band_areas(graph, grid, &self.bands, Some(s as u32), true, &mut out);
                        }
                    }
                }
            }
            AreaMode::PerStation => {
                for (s, g) in self.grids.iter().enumerate() {
                    if let Some(grid) = g {
                        band_areas(graph, grid, &self.bands, Some(s as u32), false, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Station `s`'s grid as if it were alone.
    fn station_grid(&self, graph: &RoadGraph, s: usize) -> Option<TimeGrid> {
        let snap = self.snaps.get(s).copied().flatten()?;
        let mut only = vec![None; s + 1];
        only[s] = Some(snap);
        let budget = self.bands.last().copied().unwrap_or(0.0) * 60.0;
        let alone = reach(graph, &only, self.options.turnout_s, budget);
        Some(TimeGrid::from_pieces(
            graph,
            &alone.pieces(graph),
            self.options.access_m,
            self.options.cell_m,
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::analysis::isochrone::response_areas;
    use crate::analysis::reach::{SnapIndex, Station};
    use crate::analysis::road_graph::SpeedTable;
    use crate::analysis::road_graph::tests::deg;
    use geo::{Contains, Coord, Point};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn at(x: f64, y: f64) -> Station {
        Station {
            id: "S".into(),
            position: Coord {
                x: 117.9 + deg(x),
                y: 36.8 + deg(y),
            },
        }
    }

    #[test]
    fn moving_one_station_matches_a_fresh_computation() {
        let net = crate::analysis::reach::tests::random_network(21, 10);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let stations = [at(500.0, 600.0), at(1500.0, 400.0), at(900.0, 1500.0)];
        let (snaps, _) = index.snap_stations(&g, &stations, 500.0);
        assert!(snaps.iter().all(Option::is_some));
        for mode in [AreaMode::Dissolve, AreaMode::Split, AreaMode::PerStation] {
            let options = AreaOptions {
                bands_min: vec![3.0, 5.0],
                mode,
                ..AreaOptions::default()
            };
            let mut live = StationAreas::new(&g, &snaps, &options);
            let moved = index.snap(&g, at(1100.0, 900.0).position, 500.0);
            assert!(live.set_station(&g, 1, moved));
            assert!(!live.set_station(&g, 7, moved));
            let mut now = snaps.clone();
            now[1] = moved;
            assert_eq!(live.snaps(), &now[..]);
            let areas = live.areas(&g);
            // The same as building the cache afresh with the new positions.
            assert_eq!(areas, StationAreas::new(&g, &now, &options).areas(&g));
            // And as one multi-station computation, up to rounding at band edges.
            let (fresh, _) = response_areas(&g, &now, &options);
            assert_eq!(areas.len(), fresh.len());
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            let (mut differ, mut inside) = (0, 0);
            for (a, b) in areas.iter().zip(&fresh) {
                assert_eq!((a.minutes, a.station), (b.minutes, b.station));
                assert!(
                    (a.area_km2 - b.area_km2).abs() <= 0.01 * b.area_km2 + 0.002,
                    "{mode:?} {} {}",
                    a.area_km2,
                    b.area_km2
                );
                if mode == AreaMode::PerStation {
                    assert_eq!(a, b);
                }
                for _ in 0..300 {
                    let p = Point::new(
                        117.9 + deg(rng.random_range(-200.0..2200.0)),
                        36.8 + deg(rng.random_range(-200.0..2200.0)),
                    );
                    let (x, y) = (a.area.contains(&p), b.area.contains(&p));
                    differ += usize::from(x != y);
                    inside += usize::from(x);
                }
            }
            assert!(inside > 100, "{mode:?} {inside}");
            assert!(differ <= 3, "{mode:?} {differ}");
        }
    }

    #[test]
    fn a_station_out_of_service_drops_its_areas() {
        let net = crate::analysis::reach::tests::random_network(22, 8);
        let (g, _) = RoadGraph::build(&[&net], &SpeedTable::default()).unwrap();
        let index = SnapIndex::new(&g);
        let (snaps, _) = index.snap_stations(&g, &[at(400.0, 400.0), at(1400.0, 1200.0)], 500.0);
        let options = AreaOptions {
            bands_min: vec![4.0],
            ..AreaOptions::default()
        };
        let mut live = StationAreas::new(&g, &snaps, &options);
        let both = live.areas(&g)[0].area_km2;
        assert!(live.set_station(&g, 1, None));
        let one = live.areas(&g)[0].area_km2;
        let (alone, _) = response_areas(&g, &[snaps[0], None], &options);
        assert!(one < both);
        assert!((one - alone[0].area_km2).abs() <= 0.01 * one + 0.002);
    }
}
