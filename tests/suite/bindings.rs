//! Outside events on the command queue, through the batch handler and the
//! repository's configs (config/payment.json binds the provider's
//! `PaymentSucceeded` and `PaymentFailed`): each becomes its bound command,
//! handled like any other (ordered per aggregate, applied once however
//! often it is delivered), and a refused one is recorded with the event's id.

use serde_json::{Value, json};
use testkit::scenario::{Scenario, command, raw};

/// A transfer charge of order `id`: the payment waits for the provider.
fn transfer(id: &str) -> testkit::scenario::Message {
    command(
        "payment",
        id,
        "Charge",
        json!({"amount": 40, "currency": "EUR", "method": "transfer"}),
    )
}

/// The provider's event `event_id` of `detail_type` about order `order`.
fn provider(event_id: &str, detail_type: &str, detail: Value) -> String {
    json!({
        "version": "0", "id": event_id, "detail-type": detail_type,
        "source": "payments.provider", "account": "123456789012",
        "time": "2030-01-01T12:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": detail
    })
    .to_string()
}

#[tokio::test]
async fn a_provider_event_confirms_a_waiting_charge_once() {
    let succeeded = provider(
        "e-1",
        "PaymentSucceeded",
        json!({"orderId": "o-1", "reference": "ch_1"}),
    );
    let then = Scenario::new()
        .given_commands(vec![transfer("o-1")])
        .await
        .when(vec![
            raw(succeeded.clone()).id("m-1"),
            // The bus delivers at least once: the copy is a duplicate.
            raw(succeeded).id("m-2"),
        ])
        .await
        .then_failed(&[])
        .then_applied("m-1", 2, false)
        .then_applied("m-2", 2, true)
        .then_events("payment", "o-1", &["ChargeRequested", "ChargeConfirmed"])
        .await
        .then_state("payment", "o-1", "Charged", 2)
        .await;
    let outcome = &then.report.outcomes[0];
    assert_eq!(outcome.command_id.as_deref(), Some("payments.provider/e-1"));
    assert_eq!(outcome.command.as_deref(), Some("ConfirmCharge"));
    assert_eq!(
        outcome
            .aggregate
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("payment#o-1")
    );
}

#[tokio::test]
async fn a_failed_payment_declines_and_commands_and_events_share_the_aggregates_lane() {
    Scenario::new()
        .when(vec![
            transfer("o-2").id("charge"),
            raw(provider("e-2", "PaymentFailed", json!({"orderId": "o-2"}))).id("failed"),
        ])
        .await
        .then_failed(&[])
        .then_applied("charge", 1, false)
        .then_applied("failed", 2, false)
        .then_events("payment", "o-2", &["ChargeRequested", "ChargeFailed"])
        .await;
}

#[tokio::test]
async fn refused_events_are_permanent_with_their_codes_and_the_events_id() {
    let then = Scenario::new()
        .given_commands(vec![transfer("o-3")])
        .await
        .when(vec![
            raw(provider(
                "e-unbound",
                "PaymentRefunded",
                json!({"orderId": "o-3"}),
            ))
            .id("unbound"),
            raw(provider(
                "e-noid",
                "PaymentSucceeded",
                json!({"reference": "r"}),
            ))
            .id("no-id"),
            raw(provider(
                "e-schema",
                "PaymentSucceeded",
                json!({"orderId": "o-3", "reference": 7}),
            ))
            .id("schema"),
            raw(provider("e-detail", "PaymentSucceeded", json!("text"))).id("detail"),
        ])
        .await
        .then_failed(&["unbound", "no-id", "schema", "detail"])
        .then_reason("unbound", "unbound_event")
        .then_reason("no-id", "binding_failed")
        // A built payload the schema refuses is refused as any command is.
        .then_reason("schema", "schema_violation")
        .then_reason("detail", "malformed_message");
    for (id, event_id) in [
        ("unbound", "e-unbound"),
        ("no-id", "e-noid"),
        ("detail", "e-detail"),
    ] {
        let reason = then.failure(id).to_string();
        assert!(reason.contains(event_id), "{id}: {reason}");
        assert!(then.failure(id).is_permanent());
    }
    let schema = then
        .report
        .outcomes
        .iter()
        .find(|o| o.message_id == "schema")
        .unwrap();
    assert_eq!(
        schema.command_id.as_deref(),
        Some("payments.provider/e-schema")
    );
}

#[tokio::test]
async fn a_body_without_every_event_member_is_parsed_as_a_command() {
    // `detail-type` alone does not make an event: the envelope refuses it.
    Scenario::new()
        .when(vec![
            raw(r#"{"detail-type":"PaymentSucceeded","source":"x","detail":{}}"#).id("half"),
        ])
        .await
        .then_failed(&["half"])
        .then_reason("half", "malformed_message");
}
