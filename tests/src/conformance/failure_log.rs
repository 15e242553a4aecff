//! The check every [`FailureLog`] must pass.

use handler_core::{FailureLog, FailureRecord};

use super::key;

/// Failures are recorded under their message id: the latest reason, the
/// first failure time kept, a count.
pub async fn failures_are_recorded<S: FailureLog>(store: &S) {
    let id = format!("{}-failed-message", std::process::id());
    assert_eq!(store.failure(&id).await.expect("read"), None);
    let first = FailureRecord {
        message_id: id.clone(),
        aggregate: Some(key("failures")),
        command: Some("ConfirmOrder".into()),
        command_id: Some("c-1".into()),
        code: "invalid_transition".into(),
        reason: "command `ConfirmOrder` is not allowed in state `Created`".into(),
        permanent: true,
        receive_count: Some(1),
        failed_at: "2026-11-21T00:00:01.000Z".into(),
    };
    let unparsed = FailureRecord {
        message_id: format!("{id}-unparsed"),
        aggregate: None,
        command: None,
        command_id: None,
        code: "malformed_message".into(),
        reason: "malformed command message: EOF".into(),
        permanent: true,
        receive_count: None,
        failed_at: "2026-11-21T00:00:01.000Z".into(),
    };
    store
        .record_failures(&[first.clone(), unparsed.clone()])
        .await
        .expect("record");
    let second = FailureRecord {
        receive_count: Some(2),
        failed_at: "2026-11-21T00:00:09.000Z".into(),
        ..first.clone()
    };
    store
        .record_failures(std::slice::from_ref(&second))
        .await
        .expect("record again");

    let stored = store.failure(&id).await.expect("read").expect("recorded");
    assert_eq!(stored.last, second);
    assert_eq!(stored.first_failed_at, first.failed_at);
    assert_eq!(stored.failures, 2);
    let stored = store
        .failure(&unparsed.message_id)
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(stored.last, unparsed);
    assert_eq!(stored.failures, 1);
}
