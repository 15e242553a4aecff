//! The event processor's [`Publisher`] over EventBridge `PutEvents`
//! (docs/reference.md §8): each [`Publication`] becomes one entry on the
//! bus `EVENT_BUS_NAME` with its `Source`, `DetailType` and `Detail`.
//!
//! - [`api`]: the one call, [`PutEventsApi`], and its SDK implementation
//!   [`SdkPutEvents`]; tests put a wrapper in between;
//! - [`resend`]: requests of at most 10 entries and 256 KiB; when
//!   `FailedEntryCount` is above 0, only the failed entries are sent again,
//!   in a bounded loop with a growing pause ([`Resend`]); an entry over
//!   256 KiB is refused on its own, never sent.
//!
//! What it may depend on: the engine whose trait it implements
//! (`event-processor`), the AWS-free `command-messages` (its chunking,
//! under EventBridge's limits), `sdk-error`, the EventBridge SDK and tokio
//! (the pause); never another adapter.
//!
//! ```
//! use eventbridge_publisher::{ENTRY_LIMIT_BYTES, entry_bytes};
//! assert_eq!(entry_bytes("command-handler.order", "OrderCreated", "{}"), 35);
//! assert_eq!(ENTRY_LIMIT_BYTES, 256 * 1024);
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod resend;

use async_trait::async_trait;
use event_processor::{DeliveryError, Publication, Publisher};

pub use api::{Entry, EntryRefused, PutEventsApi, PutEventsError, SdkPutEvents};
pub use resend::{ENTRY_LIMIT_BYTES, MAX_ENTRIES, Resend, entry_bytes, put_all};

/// Publishes to EventBridge through `A` (the SDK in the Lambda).
#[derive(Debug, Clone)]
pub struct EventBridgePublisher<A = SdkPutEvents> {
    api: A,
    resend: Resend,
}

impl<A: PutEventsApi> EventBridgePublisher<A> {
    /// A publisher over `api`, with the default [`Resend`] policy.
    pub fn new(api: A) -> Self {
        Self {
            api,
            resend: Resend::default(),
        }
    }

    /// The `PutEvents` it publishes through.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// With another resend policy.
    pub fn with_resend(mut self, resend: Resend) -> Self {
        self.resend = resend;
        self
    }
}

#[async_trait]
impl<A: PutEventsApi> Publisher for EventBridgePublisher<A> {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        let entries: Vec<Entry<'_>> = items
            .iter()
            .map(|p| Entry {
                source: &p.source,
                detail_type: &p.detail_type,
                detail: &p.detail,
            })
            .collect();
        put_all(&self.api, &entries, &self.resend).await
    }
}
