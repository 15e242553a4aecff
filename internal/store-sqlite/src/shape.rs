//! The shape and size checks of a commit, made before the file is touched:
//! the DynamoDB store's counting and limits (`dynamodb-layout`).

use dynamodb_layout::{DynamoLayout, LIMITS};
use handler_core::state_machine::AggregateState;
use handler_core::{AppendError, Commit, CommitSizing, StoreError};

/// Refuses a commit that breaks the trait's rules before touching the file:
/// over DynamoDB's limits by the DynamoDB store's counting, or not a gapless
/// continuation with one record and one state per event.
pub(crate) fn check_shape(commit: &Commit) -> Result<(), AppendError> {
    let limits = LIMITS;
    let n = commit.events.len();
    let gapless = commit
        .events
        .iter()
        .enumerate()
        .all(|(i, e)| e.version == commit.expected_version + 1 + i as u64);
    if n == 0
        || !gapless
        || commit.head.version != commit.new_version()
        || commit.commands.len() != n
        || commit.data_after.len() != n
    {
        return Err(AppendError::Store(StoreError::corrupt(format!(
            "commit for {} does not continue version {} gaplessly with one record and one \
             state per event",
            commit.key, commit.expected_version
        ))));
    }
    let mut size = DynamoLayout.commit(&commit.key, commit.expected_version, &commit.head);
    for ((event, record), data) in commit
        .events
        .iter()
        .zip(&commit.commands)
        .zip(&commit.data_after)
    {
        let after = AggregateState {
            alarms: Default::default(),
            state: event.state.clone(),
            version: event.version,
            data: data.clone(),
        };
        let added = DynamoLayout.command(&commit.key, event, record, &after);
        if added.largest_item > limits.max_item_bytes {
            return Err(AppendError::TooLarge(format!(
                "event {} of {} is over the {}-byte item limit",
                event.version, commit.key, limits.max_item_bytes
            )));
        }
        size = size + added;
    }
    if size.items > limits.max_items_per_commit {
        return Err(AppendError::TooLarge(format!(
            "{} items in one append, over the limit of {}",
            size.items, limits.max_items_per_commit
        )));
    }
    if size.bytes > limits.max_commit_bytes {
        return Err(AppendError::TooLarge(format!(
            "about {} bytes in one append, over the limit of {}",
            size.bytes, limits.max_commit_bytes
        )));
    }
    Ok(())
}
