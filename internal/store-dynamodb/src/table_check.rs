//! What a binary does with the table check
//! ([`DynamoStore::check_table`]) before it uses a DynamoDB store
//! ([`check_before_use`]): the Lambdas at init, `cmdctl` (its worker
//! included) when it opens the store.
//!
//! - a missing table or an older layout is the error: the binary refuses to
//!   start, naming the table and the missing index (docs/cost.md,
//!   *Migration*);
//! - a check that could not be made (no answer within the client's
//!   timeouts, throttling, a denied `DescribeTable`) is logged as a warning
//!   and the binary starts: the layout is unknown, not wrong, and the first
//!   batch's own calls retry or fail like any transient failure.

use crate::{DynamoStore, TableCheckError};

/// Checks `store`'s table; `Err` only for a permanent failure.
pub async fn check_before_use(store: &DynamoStore) -> Result<(), TableCheckError> {
    match store.check_table().await {
        Ok(()) => Ok(()),
        Err(e) if e.is_permanent() => Err(e),
        Err(e) => {
            tracing::warn!(
                table = store.table(),
                reason = e.to_string(),
                "table not checked; starting anyway"
            );
            Ok(())
        }
    }
}
