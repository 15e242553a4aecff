//! The check a binary makes before it uses the table: one `DescribeTable`.
//!
//! It tells whether the table has this code's layout (table layout 2: the local
//! secondary index [`COMMAND_INDEX`], which cannot be added to an existing
//! table), and it opens the client's connection to DynamoDB, so that the
//! first batch does not pay the TLS handshake (docs/cost.md, *Migration*).
//!
//! A wrong layout or a missing table is permanent: the binary refuses to
//! start. A call that fails (no answer, throttling, a denied permission) is
//! transient: it says nothing about the layout, and the caller decides.

use dynamodb_layout::COMMAND_INDEX;

use crate::DynamoStore;

/// Why the table cannot be used, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableCheckError {
    /// The table does not exist. Permanent.
    #[error("DynamoDB table {table} does not exist")]
    NoTable {
        /// The table's name.
        table: String,
    },
    /// The table lacks an index of this layout: it was made for an older
    /// one, and must be replaced. Permanent.
    #[error(
        "DynamoDB table {table} has no local secondary index {index}: it has an older \
         layout; create a new table and move the events (docs/cost.md, section Migration)"
    )]
    WrongLayout {
        /// The table's name.
        table: String,
        /// The index it lacks.
        index: &'static str,
    },
    /// The call failed (timeout, no connection, throttling, a denied
    /// permission): the layout is unknown. Transient.
    #[error("cannot check DynamoDB table {table}: {reason}")]
    Unavailable {
        /// The table's name.
        table: String,
        /// The SDK's failure, described.
        reason: String,
    },
}

impl TableCheckError {
    /// Whether retrying cannot help: a missing table or a wrong layout.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Unavailable { .. })
    }
}

impl DynamoStore {
    /// Describes the table and checks that it has table layout 2's
    /// [`COMMAND_INDEX`]. The call goes through the store's client, whose
    /// connection the next calls reuse.
    pub async fn check_table(&self) -> Result<(), TableCheckError> {
        let table = || self.table.clone();
        let described = match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(described) => described,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Err(TableCheckError::NoTable { table: table() });
            }
            Err(e) => {
                return Err(TableCheckError::Unavailable {
                    table: table(),
                    reason: sdk_error::describe(&e),
                });
            }
        };
        let has_index = described.table().is_some_and(|t| {
            t.local_secondary_indexes()
                .iter()
                .any(|i| i.index_name() == Some(COMMAND_INDEX))
        });
        if has_index {
            Ok(())
        } else {
            Err(TableCheckError::WrongLayout {
                table: table(),
                index: COMMAND_INDEX,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unavailable_table_is_transient() {
        let table = "events".to_owned();
        assert!(
            TableCheckError::NoTable {
                table: table.clone()
            }
            .is_permanent()
        );
        let wrong = TableCheckError::WrongLayout {
            table: table.clone(),
            index: COMMAND_INDEX,
        };
        assert!(wrong.is_permanent());
        let text = wrong.to_string();
        for part in ["events", "by-command", "docs/cost.md", "Migration"] {
            assert!(text.contains(part), "{text}");
        }
        assert!(
            !TableCheckError::Unavailable {
                table,
                reason: "timeout".into()
            }
            .is_permanent()
        );
    }
}
