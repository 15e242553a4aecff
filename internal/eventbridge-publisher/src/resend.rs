//! The loop around [`PutEventsApi`]: requests of at most [`MAX_ENTRIES`]
//! entries and [`ENTRY_LIMIT_BYTES`]; the entries a request did not accept
//! are sent again, alone, up to [`Resend::attempts`] times in all, with a
//! pause that doubles. An entry over [`ENTRY_LIMIT_BYTES`] is refused
//! without being sent. A request that fails as a whole (the SDK has
//! already retried it) fails its entries at once.

use std::time::Duration;

use command_messages::chunking::batches_within;
use event_processor::DeliveryError;

use crate::api::{Entry, PutEventsApi};

/// EventBridge takes at most this many entries per `PutEvents`.
pub const MAX_ENTRIES: usize = 10;
/// EventBridge's limit on one entry, and on a whole request.
pub const ENTRY_LIMIT_BYTES: usize = 256 * 1024;

/// How often and how patiently failed entries are sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resend {
    /// Sends of an entry in all, the first included (at least 1).
    pub attempts: u32,
    /// The pause before the second send; it doubles before each later one.
    pub first_pause: Duration,
}

impl Default for Resend {
    /// 3 sends, pausing 100 ms then 200 ms.
    fn default() -> Self {
        Self {
            attempts: 3,
            first_pause: Duration::from_millis(100),
        }
    }
}

/// An entry's size as EventBridge counts it: `Source`, `DetailType` and
/// `Detail` in UTF-8 bytes (no `Time` and no `Resources` are sent).
pub fn entry_bytes(source: &str, detail_type: &str, detail: &str) -> usize {
    source.len() + detail_type.len() + detail.len()
}

/// Puts every entry; one result per entry, in order.
pub async fn put_all(
    api: &impl PutEventsApi,
    entries: &[Entry<'_>],
    resend: &Resend,
) -> Vec<Result<(), DeliveryError>> {
    let sizes: Vec<usize> = entries
        .iter()
        .map(|e| entry_bytes(e.source, e.detail_type, e.detail))
        .collect();
    let mut results: Vec<Option<Result<(), DeliveryError>>> = vec![None; entries.len()];
    let mut pending = Vec::new();
    for (index, size) in sizes.iter().enumerate() {
        if *size > ENTRY_LIMIT_BYTES {
            results[index] = Some(Err(DeliveryError::permanent(format!(
                "the entry is {size} bytes, over EventBridge's {ENTRY_LIMIT_BYTES}: it can never be published"
            ))));
        } else {
            pending.push(index);
        }
    }
    let attempts = resend.attempts.max(1);
    let mut pause = resend.first_pause;
    let mut last_refusal: Vec<String> = vec![String::new(); entries.len()];
    for attempt in 1..=attempts {
        if pending.is_empty() {
            break;
        }
        if attempt > 1 {
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
        }
        let pending_sizes: Vec<usize> = pending.iter().map(|&i| sizes[i]).collect();
        let mut refused = Vec::new();
        for chunk in batches_within(&pending_sizes, MAX_ENTRIES, ENTRY_LIMIT_BYTES) {
            let indexes = &pending[chunk];
            let request: Vec<Entry<'_>> = indexes.iter().map(|&i| entries[i]).collect();
            match api.put_events(&request).await {
                Ok(answers) => {
                    for (&index, answer) in indexes.iter().zip(answers) {
                        match answer {
                            Ok(()) => results[index] = Some(Ok(())),
                            Err(why) => {
                                last_refusal[index] = why.to_string();
                                refused.push(index);
                            }
                        }
                    }
                }
                Err(why) => {
                    let error = DeliveryError::transient(format!("PutEvents failed: {why}"))
                        .with_source(why);
                    for &index in indexes {
                        results[index] = Some(Err(error.clone()));
                    }
                }
            }
        }
        if !refused.is_empty() {
            tracing::warn!(
                attempt,
                refused = refused.len(),
                "EventBridge refused entries; sending them again"
            );
        }
        pending = refused;
    }
    for index in pending {
        results[index] = Some(Err(DeliveryError::transient(format!(
            "EventBridge refused the entry {attempts} times; last: {}",
            last_refusal[index]
        ))));
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(DeliveryError::transient("the entry was never sent"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::api::EntryRefused;

    /// Refuses each detail as often as the plan says, and records requests.
    #[derive(Default)]
    struct Script {
        refusals: Mutex<HashMap<String, u32>>,
        whole_failure: bool,
        requests: Mutex<Vec<Vec<String>>>,
    }

    #[async_trait]
    impl PutEventsApi for Script {
        async fn put_events(
            &self,
            entries: &[Entry<'_>],
        ) -> Result<Vec<Result<(), EntryRefused>>, crate::PutEventsError> {
            assert!(entries.len() <= MAX_ENTRIES);
            self.requests
                .lock()
                .unwrap()
                .push(entries.iter().map(|e| e.detail.to_owned()).collect());
            if self.whole_failure {
                return Err(crate::PutEventsError {
                    message: "ThrottlingException: slow down".into(),
                    source: Box::new(std::io::Error::other("the bus is throttled")),
                });
            }
            let mut refusals = self.refusals.lock().unwrap();
            Ok(entries
                .iter()
                .map(|e| match refusals.get_mut(e.detail) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        Err(EntryRefused {
                            code: "InternalFailure".into(),
                            message: "try again".into(),
                        })
                    }
                    _ => Ok(()),
                })
                .collect())
        }
    }

    fn details(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{{\"n\":{i}}}")).collect()
    }

    fn entries(details: &[String]) -> Vec<Entry<'_>> {
        details
            .iter()
            .map(|d| Entry {
                source: "command-handler.order",
                detail_type: "OrderCreated",
                detail: d,
            })
            .collect()
    }

    const QUICK: Resend = Resend {
        attempts: 3,
        first_pause: Duration::ZERO,
    };

    #[tokio::test]
    async fn ten_entries_a_request_and_only_the_refused_are_sent_again() {
        let details = details(23);
        let script = Script::default();
        script
            .refusals
            .lock()
            .unwrap()
            .extend([(details[4].clone(), 1), (details[17].clone(), 2)]);
        let results = put_all(&script, &entries(&details), &QUICK).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let requests = script.requests.lock().unwrap();
        let sizes: Vec<usize> = requests.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 3, 2, 1], "{requests:?}");
        assert_eq!(requests[3], vec![details[4].clone(), details[17].clone()]);
        assert_eq!(requests[4], vec![details[17].clone()]);
    }

    #[tokio::test]
    async fn the_loop_is_bounded_and_the_reason_is_the_last_refusal() {
        let details = details(3);
        let script = Script::default();
        script
            .refusals
            .lock()
            .unwrap()
            .insert(details[1].clone(), 99);
        let results = put_all(&script, &entries(&details), &QUICK).await;
        assert!(results[0].is_ok() && results[2].is_ok());
        let err = results[1].as_ref().unwrap_err();
        assert_eq!(
            err.reason,
            "EventBridge refused the entry 3 times; last: InternalFailure: try again"
        );
        assert_eq!(script.requests.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn an_oversized_entry_is_refused_alone_and_never_sent() {
        let mut details = details(2);
        details.insert(1, format!("\"{}\"", "x".repeat(ENTRY_LIMIT_BYTES)));
        let script = Script::default();
        let results = put_all(&script, &entries(&details), &QUICK).await;
        assert!(results[0].is_ok() && results[2].is_ok());
        assert!(results[1].as_ref().unwrap_err().is_permanent());
        assert!(
            results[1]
                .as_ref()
                .unwrap_err()
                .reason
                .contains("over EventBridge's")
        );
        let requests = script.requests.lock().unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].len(), 2);
    }

    #[tokio::test]
    async fn requests_stay_under_256_kib_in_all() {
        let big = format!("\"{}\"", "x".repeat(100 * 1024));
        let details = vec![big.clone(), big.clone(), big];
        let script = Script::default();
        let results = put_all(&script, &entries(&details), &QUICK).await;
        assert!(results.iter().all(Result::is_ok));
        let sizes: Vec<usize> = script
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![2, 1]);
    }

    #[tokio::test]
    async fn a_failed_request_fails_its_entries_without_a_loop_of_its_own() {
        let details = details(12);
        let script = Script {
            whole_failure: true,
            ..Script::default()
        };
        let results = put_all(&script, &entries(&details), &QUICK).await;
        assert_eq!(results.len(), 12);
        for result in &results {
            let error = result.as_ref().unwrap_err();
            assert_eq!(
                error.reason,
                "PutEvents failed: ThrottlingException: slow down"
            );
            // The request's error is kept, and its own cause under it.
            let source = std::error::Error::source(error).expect("the request's error");
            assert_eq!(source.to_string(), "ThrottlingException: slow down");
            let cause = source.source().expect("the SDK's error");
            assert_eq!(cause.to_string(), "the bus is throttled");
        }
        assert_eq!(script.requests.lock().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pause_doubles() {
        let details = details(1);
        let script = Script::default();
        script
            .refusals
            .lock()
            .unwrap()
            .insert(details[0].clone(), 99);
        let start = tokio::time::Instant::now();
        let _ = put_all(&script, &entries(&details), &Resend::default()).await;
        // Paused clock: exactly the pauses, 100 ms then 200 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(300));
    }
}
