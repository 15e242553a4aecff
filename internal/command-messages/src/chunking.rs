//! `SendMessageBatch` chunking: at most [`MAX_BATCH`] entries and
//! [`MAX_BATCH_BYTES`] of bodies per request; [`batches_within`] the same
//! under other limits.

use std::ops::Range;

/// SQS allows at most this many entries per batch request.
pub const MAX_BATCH: usize = 10;
/// The most body bytes put in one `SendMessageBatch` (SQS's long-standing
/// 256 KiB request payload limit).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Splits items of these sizes (in order) into consecutive batches of at
/// most [`MAX_BATCH`] items and [`MAX_BATCH_BYTES`] bytes; an item larger
/// than that alone is a batch of its own (SQS will judge it).
///
/// ```
/// use command_messages::chunking::batches;
/// assert_eq!(batches(&[1; 23]), vec![0..10, 10..20, 20..23]);
/// assert_eq!(batches(&[200_000, 200_000, 10]), vec![0..1, 1..3]);
/// ```
pub fn batches(sizes: &[usize]) -> Vec<Range<usize>> {
    batches_within(sizes, MAX_BATCH, MAX_BATCH_BYTES)
}

/// [`batches`] under other limits: at most `max_items` items and
/// `max_bytes` bytes per batch (EventBridge's `PutEvents` has its own).
///
/// ```
/// use command_messages::chunking::batches_within;
/// assert_eq!(batches_within(&[1; 5], 2, 100), vec![0..2, 2..4, 4..5]);
/// assert_eq!(batches_within(&[60, 60, 10], 10, 100), vec![0..1, 1..3]);
/// ```
pub fn batches_within(sizes: &[usize], max_items: usize, max_bytes: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        let full = i - start == max_items || (i > start && bytes + size > max_bytes);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_by_count_and_size() {
        assert!(batches(&[]).is_empty());
        assert_eq!(batches(&[5]), vec![0..1]);
        assert_eq!(batches(&[1; 10]), vec![0..10]);
        assert_eq!(batches(&[1; 11]), vec![0..10, 10..11]);
        assert_eq!(batches(&[300_000, 1]), vec![0..1, 1..2]);
        assert_eq!(batches(&[100_000, 100_000, 70_000, 1]), vec![0..2, 2..4]);
        assert_eq!(batches(&[128 * 1024, 128 * 1024]), vec![0..2]);
    }
}
