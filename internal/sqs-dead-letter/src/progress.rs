//! How long work reports how far it got (a progress bar, or nothing).

/// Told how much work there is and how much is done. Every method has an
/// empty default; `()` reports nothing.
pub trait Progress: Send + Sync {
    /// The work is about `total` items (an estimate: SQS counts are
    /// approximate).
    fn set_total(&self, total: u64) {
        let _ = total;
    }

    /// `done` more items are done.
    fn advance(&self, done: u64) {
        let _ = done;
    }
}

impl Progress for () {}
