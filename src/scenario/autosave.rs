//! When to write the project without being asked. The policy reads no clock: the caller
//! passes `now` as seconds from any fixed origin (the window uses the time since start-up),
//! and says when the document changed and when a save started and ended.
//!
//! A save waits until the work has been unsaved for the interval (30 s by default) *and*
//! the last change has settled (no change for 2 s, so a vertex is not saved mid-drag); if
//! changes never settle, it saves anyway once the work has been unsaved for the longest
//! delay (2 min), because a commander who never stops editing must not lose more than that.

/// The timings of autosave, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutosavePolicy {
    /// Work stays unsaved at least this long before an autosave.
    pub interval_s: f64,
    /// The last change must be this old: an edit in progress is not saved half-way.
    pub settle_s: f64,
    /// Work is saved after this long even while changes keep coming.
    pub max_delay_s: f64,
    /// After a failed save, wait this long before trying again.
    pub retry_s: f64,
}

impl Default for AutosavePolicy {
    fn default() -> Self {
        AutosavePolicy {
            interval_s: 30.0,
            settle_s: 2.0,
            max_delay_s: 120.0,
            retry_s: 30.0,
        }
    }
}

/// Autosave bookkeeping for one project: which generation of the document is current,
/// which is safely on disk, and since when the difference exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Autosave {
    pub policy: AutosavePolicy,
    generation: u64,
    saved_generation: u64,
    /// When the oldest change not yet on disk (nor being written) was made.
    unsaved_since: Option<f64>,
    last_change_at: Option<f64>,
    /// The generation being written and the `unsaved_since` it replaced, while a save runs.
    in_flight: Option<(u64, Option<f64>)>,
    /// No new attempt before this time (after a failure).
    not_before: Option<f64>,
}

impl Default for Autosave {
    fn default() -> Self {
        Autosave::new(AutosavePolicy::default())
    }
}

impl Autosave {
    /// A clean state: generation 0, on disk (or nothing to save yet).
    pub fn new(policy: AutosavePolicy) -> Autosave {
        Autosave {
            policy,
            generation: 0,
            saved_generation: 0,
            unsaved_since: None,
            last_change_at: None,
            in_flight: None,
            not_before: None,
        }
    }

    /// Records that the document changed at `now`; returns the new generation.
    pub fn note_change(&mut self, now: f64) -> u64 {
        self.generation += 1;
        if self.unsaved_since.is_none() {
            self.unsaved_since = Some(now);
        }
        self.last_change_at = Some(now);
        self.generation
    }

    /// The current generation of the document.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The newest generation known to be on disk.
    pub fn saved_generation(&self) -> u64 {
        self.saved_generation
    }

    /// Whether the document has changes that are not on disk.
    pub fn is_dirty(&self) -> bool {
        self.generation != self.saved_generation
    }

    /// Whether a save is running.
    pub fn is_saving(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The generation to save now, if an autosave is due at `now`; `None` otherwise.
    pub fn due(&self, now: f64) -> Option<u64> {
        if self.in_flight.is_some() || self.not_before.is_some_and(|t| now < t) {
            return None;
        }
        let since = self.unsaved_since?;
        let unsaved_for = now - since;
        let settled = self
            .last_change_at
            .is_none_or(|t| now - t >= self.policy.settle_s);
        let due = (unsaved_for >= self.policy.interval_s && settled)
            || unsaved_for >= self.policy.max_delay_s;
        due.then_some(self.generation)
    }

    /// Records that a save of `generation` (the current one, as returned by
    /// [`Autosave::due`] or for a save the user asked for) has started.
    pub fn save_started(&mut self, generation: u64) {
        self.in_flight = Some((generation, self.unsaved_since.take()));
    }

    /// Records how the running save ended. On success its generation is on disk; changes
    /// made while it ran stay unsaved. On failure the work counts as unsaved since before,
    /// and the next attempt waits [`AutosavePolicy::retry_s`].
    pub fn save_finished(&mut self, succeeded: bool, now: f64) {
        let Some((generation, unsaved_before)) = self.in_flight.take() else {
            return;
        };
        if succeeded {
            self.saved_generation = self.saved_generation.max(generation);
            self.not_before = None;
            if self.generation == self.saved_generation {
                self.unsaved_since = None;
            }
        } else {
            self.unsaved_since = match (unsaved_before, self.unsaved_since) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            self.not_before = Some(now + self.policy.retry_s);
        }
    }

    /// Records that the current document is on disk (just loaded, or saved synchronously).
    pub fn mark_saved(&mut self) {
        self.saved_generation = self.generation;
        self.unsaved_since = None;
        self.not_before = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_due_while_clean() {
        let a = Autosave::default();
        assert!(!a.is_dirty());
        assert_eq!(a.due(0.0), None);
        assert_eq!(a.due(1e6), None);
    }

    #[test]
    fn a_change_is_saved_after_the_interval_once_settled() {
        let mut a = Autosave::default();
        a.note_change(10.0);
        assert!(a.is_dirty());
        assert_eq!(a.due(39.9), None, "interval not yet elapsed");
        assert_eq!(a.due(40.0), Some(1));
        // A change just before the interval ends waits for the settle time.
        let mut b = Autosave::default();
        b.note_change(10.0);
        b.note_change(39.0);
        assert_eq!(b.due(40.0), None);
        assert_eq!(b.due(40.9), None);
        assert_eq!(b.due(41.0), Some(2));
    }

    #[test]
    fn endless_changes_are_saved_at_the_longest_delay() {
        let mut a = Autosave::default();
        let mut t = 0.0;
        let mut saved_at = None;
        while t < 300.0 {
            a.note_change(t);
            if let Some(g) = a.due(t) {
                saved_at = Some(t);
                a.save_started(g);
                a.save_finished(true, t);
                break;
            }
            t += 0.5;
        }
        assert_eq!(saved_at, Some(120.0));
        assert!(!a.is_dirty());
    }

    #[test]
    fn changes_during_a_save_stay_unsaved_from_their_own_time() {
        let mut a = Autosave::default();
        a.note_change(0.0);
        let g = a.due(30.0).unwrap_or(0);
        assert_eq!(g, 1);
        a.save_started(g);
        assert!(a.is_saving());
        assert_eq!(a.due(31.0), None, "one save at a time");
        a.note_change(31.0);
        a.save_finished(true, 32.0);
        assert_eq!(a.saved_generation(), 1);
        assert!(a.is_dirty());
        assert_eq!(a.due(60.9), None, "the new change is 29.9 s old");
        assert_eq!(a.due(61.0), Some(2));
        a.save_started(2);
        a.save_finished(true, 61.5);
        assert!(!a.is_dirty());
        assert_eq!(a.due(500.0), None);
    }

    #[test]
    fn a_failed_save_is_retried_later_and_keeps_the_work_dirty() {
        let mut a = Autosave::default();
        a.note_change(0.0);
        a.save_started(1);
        a.save_finished(false, 30.0);
        assert!(a.is_dirty());
        assert_eq!(a.saved_generation(), 0);
        assert_eq!(a.due(59.9), None, "waiting before retrying");
        assert_eq!(a.due(60.0), Some(1));
        a.save_started(1);
        a.save_finished(true, 60.5);
        assert!(!a.is_dirty());
    }

    #[test]
    fn a_finished_save_without_a_start_is_ignored_and_mark_saved_cleans() {
        let mut a = Autosave::default();
        a.note_change(0.0);
        a.save_finished(true, 1.0);
        assert!(a.is_dirty());
        a.mark_saved();
        assert!(!a.is_dirty());
        assert_eq!(a.due(1000.0), None);
        assert_eq!(a.note_change(1000.0), 2);
        assert_eq!(a.due(1030.0), Some(2));
    }
}
