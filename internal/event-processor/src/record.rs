//! What the processor is given: one record per stream record or feed entry.

use handler_core::{AggregateKey, StoredEvent};

/// What one source record holds.
#[derive(Debug, Clone, PartialEq)]
// Nearly every record is an event: boxing it would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum RecordBody {
    /// A stored event.
    Event(StoredEvent),
    /// Something that is not an event (a head, an index item, a removal): skipped.
    NotAnEvent,
    /// Looks like an event but cannot be read: logged with its reason and skipped.
    Malformed {
        /// The aggregate, when it could be read.
        key: Option<AggregateKey>,
        /// Why it cannot be read (never quotes values).
        reason: String,
    },
}

/// One record of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Where it is in its source: the stream's `SequenceNumber`, or a feed
    /// position. Reported back for the first record not finished.
    pub position: String,
    /// What it holds.
    pub body: RecordBody,
}
