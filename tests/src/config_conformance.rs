//! The checks every [`ConfigSource`] must pass, run on a [`ConfigFixture`]
//! (a source plus a way to put, replace and delete its configs), and the
//! [`config_source_conformance!`] macro that runs them for one source.
//!
//! The behaviour they pin down, the same for every source:
//! - a valid config is served, compiled;
//! - a missing config is `NotFound`, permanent (`unknown_aggregate_type`);
//! - an invalid edit after a good config keeps the good one;
//! - an invalid config with no good copy is an error, transient
//!   (`config_unavailable`);
//! - a fixed config is picked up again;
//! - a config whose `aggregateType` differs from its name is refused;
//! - the types are listed, and an outside event's binding is found among
//!   them (`bound_by`), a deleted config no longer listed.
//!
//! The fixture's source must see every change on its next call (a zero TTL
//! for the S3 source): no check waits on a clock.

use async_trait::async_trait;
use handler_core::{ConfigSource, ConfigSourceError};

/// A config source under test, and the storage behind it.
#[async_trait]
pub trait ConfigFixture: Send + Sync {
    /// The source under test.
    type Source: ConfigSource;

    /// The source, seeing every change on its next call.
    fn source(&self) -> &Self::Source;

    /// Writes (or replaces) the config stored under `name`, as given
    /// (no validation).
    async fn put(&self, name: &str, bytes: &[u8]);

    /// Deletes the config stored under `name`.
    async fn delete(&self, name: &str);
}

/// A valid config declaring `aggregate_type`, at `version`.
pub fn valid_config(aggregate_type: &str, version: u64) -> Vec<u8> {
    serde_json::json!({
        "aggregateType": aggregate_type,
        "version": version,
        "initialState": "Open",
        "states": ["Open", "Closed"],
        "transitions": [
            {"command": "Close", "from": ["Open"], "to": "Closed", "event": "Closed"}
        ]
    })
    .to_string()
    .into_bytes()
}

/// A config of the right shape that does not validate (its initial state is
/// no state).
pub fn invalid_config(aggregate_type: &str) -> Vec<u8> {
    serde_json::json!({
        "aggregateType": aggregate_type,
        "version": 9,
        "initialState": "Nowhere",
        "states": ["Open"],
        "transitions": []
    })
    .to_string()
    .into_bytes()
}

async fn served<F: ConfigFixture>(fixture: &F, name: &str) -> (String, u64) {
    let machine = fixture
        .source()
        .state_machine(name)
        .await
        .unwrap_or_else(|e| panic!("config `{name}` should be served: {e}"));
    (machine.aggregate_type().to_owned(), machine.version())
}

/// A valid config is served, compiled (its transitions usable).
pub async fn a_valid_config_is_served<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &valid_config("door", 1)).await;
    let machine = fixture
        .source()
        .state_machine("door")
        .await
        .expect("a valid config is served");
    assert_eq!(machine.aggregate_type(), "door");
    assert_eq!(machine.version(), 1);
    let open = machine.initial_state();
    assert_eq!(open.state, "Open");
    let decision = machine
        .decide(&open, "Close", &serde_json::Map::new())
        .expect("the compiled machine decides its transitions");
    assert_eq!(decision.event_type, "Closed");
    assert_eq!(decision.to_state, "Closed");
}

/// A type with no config is `NotFound`, and permanent.
pub async fn a_missing_type_is_permanent<F: ConfigFixture>(fixture: &F) {
    let error = fixture
        .source()
        .state_machine("nothing")
        .await
        .expect_err("no config was put");
    assert!(
        matches!(error, ConfigSourceError::NotFound { .. }),
        "{error:?}"
    );
    assert!(error.is_permanent());
}

/// A config deleted after being served is `NotFound` again.
pub async fn a_deleted_config_is_missing<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &valid_config("door", 1)).await;
    served(fixture, "door").await;
    fixture.delete("door").await;
    let error = fixture
        .source()
        .state_machine("door")
        .await
        .expect_err("deleted");
    assert!(
        matches!(error, ConfigSourceError::NotFound { .. }),
        "{error:?}"
    );
}

/// An invalid edit after a good config keeps the good one, on every call.
pub async fn an_invalid_edit_keeps_the_good_config<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &valid_config("door", 1)).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
    fixture.put("door", &invalid_config("door")).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
    assert_eq!(
        served(fixture, "door").await,
        ("door".into(), 1),
        "still the good one on the next call"
    );
    fixture.put("door", b"{ not json").await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
}

/// An invalid config with no good copy known is an error, transient.
pub async fn an_invalid_config_with_no_good_copy_is_transient<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &invalid_config("door")).await;
    let error = fixture
        .source()
        .state_machine("door")
        .await
        .expect_err("nothing good to serve");
    assert!(
        matches!(error, ConfigSourceError::Invalid { .. }),
        "{error:?}"
    );
    assert!(!error.is_permanent(), "an operator fixes it: transient");
}

/// A fixed config is picked up: after an invalid one with no good copy, and
/// after an invalid edit of a good one.
pub async fn a_fixed_config_is_picked_up<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &invalid_config("door")).await;
    assert!(fixture.source().state_machine("door").await.is_err());
    fixture.put("door", &valid_config("door", 1)).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
    fixture.put("door", &invalid_config("door")).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
    fixture.put("door", &valid_config("door", 2)).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 2));
}

/// A valid new version replaces the one in use.
pub async fn a_new_version_replaces_the_old<F: ConfigFixture>(fixture: &F) {
    fixture.put("door", &valid_config("door", 1)).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 1));
    fixture.put("door", &valid_config("door", 2)).await;
    assert_eq!(served(fixture, "door").await, ("door".into(), 2));
}

/// A config declaring another aggregate type than its name is refused
/// (transient, like any refused config), and never served under that name.
pub async fn a_config_under_another_name_is_refused<F: ConfigFixture>(fixture: &F) {
    fixture.put("gate", &valid_config("door", 1)).await;
    let error = fixture
        .source()
        .state_machine("gate")
        .await
        .expect_err("declares `door`, stored as `gate`");
    assert!(
        matches!(error, ConfigSourceError::WrongType { .. }),
        "{error:?}"
    );
    assert!(!error.is_permanent());
    fixture.put("gate", &valid_config("gate", 1)).await;
    assert_eq!(served(fixture, "gate").await, ("gate".into(), 1));
    fixture.put("gate", &valid_config("door", 2)).await;
    assert_eq!(
        served(fixture, "gate").await,
        ("gate".into(), 1),
        "a renamed edit is refused like any invalid one"
    );
}

/// The types are listed (sorted), and `bound_by` finds the one config that
/// binds a source and detail-type; a deleted config is no longer listed.
pub async fn the_types_are_listed_and_a_binding_is_found<F: ConfigFixture>(fixture: &F) {
    let mut bound: serde_json::Value =
        serde_json::from_slice(&valid_config("latch", 1)).expect("JSON");
    bound["bindings"] = serde_json::json!([{
        "source": "conformance.test", "detailType": "Closed", "command": "Close",
        "aggregateId": { "var": "detail.id" }
    }]);
    fixture.put("latch", bound.to_string().as_bytes()).await;
    fixture.put("hinge", &valid_config("hinge", 1)).await;
    let types = fixture.source().aggregate_types().await.expect("listed");
    assert!(
        types.contains(&"latch".to_owned()) && types.contains(&"hinge".to_owned()),
        "{types:?}"
    );
    assert!(types.is_sorted(), "{types:?}");
    let found = fixture
        .source()
        .bound_by("conformance.test", "Closed")
        .await
        .expect("searched");
    let found: Vec<&str> = found.iter().map(|m| m.aggregate_type()).collect();
    assert_eq!(found, ["latch"]);
    let none = fixture
        .source()
        .bound_by("conformance.test", "Opened")
        .await
        .expect("searched");
    assert!(none.is_empty());
    fixture.delete("latch").await;
    let types = fixture.source().aggregate_types().await.expect("listed");
    assert!(!types.contains(&"latch".to_owned()), "{types:?}");
    let gone = fixture
        .source()
        .bound_by("conformance.test", "Closed")
        .await
        .expect("searched");
    assert!(gone.is_empty());
}

/// Runs every check of this module as a `#[tokio::test]`, in a module named
/// `$name`, on a fresh fixture from `$make` (an `async` expression) each.
#[macro_export]
macro_rules! config_source_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn a_valid_config_is_served() {
                $crate::config_conformance::a_valid_config_is_served(&$make.await).await;
            }
            #[tokio::test]
            async fn a_missing_type_is_permanent() {
                $crate::config_conformance::a_missing_type_is_permanent(&$make.await).await;
            }
            #[tokio::test]
            async fn a_deleted_config_is_missing() {
                $crate::config_conformance::a_deleted_config_is_missing(&$make.await).await;
            }
            #[tokio::test]
            async fn an_invalid_edit_keeps_the_good_config() {
                $crate::config_conformance::an_invalid_edit_keeps_the_good_config(&$make.await)
                    .await;
            }
            #[tokio::test]
            async fn an_invalid_config_with_no_good_copy_is_transient() {
                $crate::config_conformance::an_invalid_config_with_no_good_copy_is_transient(
                    &$make.await,
                )
                .await;
            }
            #[tokio::test]
            async fn a_fixed_config_is_picked_up() {
                $crate::config_conformance::a_fixed_config_is_picked_up(&$make.await).await;
            }
            #[tokio::test]
            async fn a_new_version_replaces_the_old() {
                $crate::config_conformance::a_new_version_replaces_the_old(&$make.await).await;
            }
            #[tokio::test]
            async fn the_types_are_listed_and_a_binding_is_found() {
                $crate::config_conformance::the_types_are_listed_and_a_binding_is_found(
                    &$make.await,
                )
                .await;
            }
            #[tokio::test]
            async fn a_config_under_another_name_is_refused() {
                $crate::config_conformance::a_config_under_another_name_is_refused(&$make.await)
                    .await;
            }
        }
    };
}
