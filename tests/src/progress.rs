//! Waits bounded by lack of progress, never by total time.
//!
//! A test that polls for an outcome (a queue drained, a stack created, a
//! server listening) must not fail because the machine is slow or busy: it
//! fails only when nothing has moved for a long quiet period. The caller
//! says what "moved" means by handing [`Progress::check`] a mark (a count
//! of handled messages, a queue depth, a list of statuses) on every poll;
//! any change of the mark restarts the quiet period.

use std::fmt;
use std::time::{Duration, Instant};

/// Watches a mark for change; see the [module](self) documentation.
#[derive(Debug)]
pub struct Progress<M> {
    quiet: Duration,
    started: Instant,
    moved_at: Instant,
    mark: Option<M>,
    moves: u64,
    longest_quiet: Duration,
}

/// A wait in which the mark stayed the same for the whole quiet period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stalled<M> {
    /// The mark that stopped changing.
    pub mark: M,
    /// How long it had not changed.
    pub quiet: Duration,
    /// How long the whole wait had run.
    pub waited: Duration,
    /// How many times the mark changed before it stalled.
    pub moves: u64,
}

impl<M: fmt::Debug> fmt::Display for Stalled<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no progress for {:.1?} (last {:?}, after {} changes in {:.1?})",
            self.quiet, self.mark, self.moves, self.waited
        )
    }
}

impl<M: PartialEq + Clone> Progress<M> {
    /// A watch that calls a wait stalled after `quiet` without change.
    pub fn new(quiet: Duration) -> Self {
        let now = Instant::now();
        Progress {
            quiet,
            started: now,
            moved_at: now,
            mark: None,
            moves: 0,
            longest_quiet: Duration::ZERO,
        }
    }

    /// Notes the current mark: `Err` when it has not changed for the quiet
    /// period (the first mark counts as a change, from the watch's start).
    pub fn check(&mut self, mark: M) -> Result<(), Stalled<M>> {
        let now = Instant::now();
        self.longest_quiet = self.longest_quiet.max(now - self.moved_at);
        if self.mark.as_ref() != Some(&mark) {
            if self.mark.is_some() {
                self.moves += 1;
            }
            self.mark = Some(mark);
            self.moved_at = now;
            return Ok(());
        }
        let quiet = now - self.moved_at;
        if quiet >= self.quiet {
            return Err(Stalled {
                mark,
                quiet,
                waited: now - self.started,
                moves: self.moves,
            });
        }
        Ok(())
    }

    /// Time since the watch started.
    pub fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// How many times the mark has changed.
    pub fn moves(&self) -> u64 {
        self.moves
    }

    /// The longest time the mark went unchanged, as far as the checks saw:
    /// how close the wait came to stalling.
    pub fn longest_quiet(&self) -> Duration {
        self.longest_quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changing_mark_never_stalls_however_long_the_wait() {
        let mut watch = Progress::new(Duration::ZERO);
        for n in 0..10 {
            std::thread::sleep(Duration::from_millis(5));
            watch.check(n).expect("moving");
        }
        assert!(watch.waited() >= Duration::from_millis(50));
        assert_eq!(watch.moves(), 9);
    }

    #[test]
    fn an_unchanged_mark_stalls_after_the_quiet_period_only() {
        let mut patient = Progress::new(Duration::from_secs(3600));
        patient.check("a").expect("first mark");
        patient.check("a").expect("not quiet for an hour");

        let mut watch = Progress::new(Duration::ZERO);
        watch.check("a").expect("the first mark is a change");
        let stalled = watch
            .check("a")
            .expect_err("unchanged for the quiet period");
        assert_eq!((stalled.mark, stalled.moves), ("a", 0));
        assert!(stalled.to_string().starts_with("no progress for"));
        watch
            .check("b")
            .expect("a change restarts the quiet period");
    }
}
