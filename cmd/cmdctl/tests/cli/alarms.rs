//! Time on the local store (docs/alarms.md, "Locally"): the order saga's
//! payment timeout (a transfer the provider answers in time, late, or
//! never), the payment's expiry, `cmdctl alarms`, and `--now`. The stale
//! cases are in `alarms_stale.rs`.

use handler_core::state_machine::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::harness::*;
use crate::saga::{invariants_hold, path, place, place_by_transfer, restock, state, steps, stock};

/// `alarms TYPE ID --json`, with `--now` when given.
fn alarms(cli: &Cli, aggregate_type: &str, id: &str, now: Option<&str>) -> Value {
    let mut args = vec!["alarms", aggregate_type, id, "--json"];
    if let Some(now) = now {
        args.extend(["--now", now]);
    }
    cli.run(&args).ok().json()
}

/// The names of an `alarms --json` document's alarms, with the versions
/// that set them, earliest due first.
fn set(doc: &Value) -> Vec<(String, u64)> {
    doc["alarms"]
        .as_array()
        .expect("alarms")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["version"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// `run --now NOW --json`, quiet, no failure.
fn run_at(cli: &Cli, now: &str) -> Value {
    let doc = cli.run(&["run", "--now", now, "--json"]).ok().json();
    assert_eq!(doc["failed"], 0, "{doc}");
    assert_eq!(doc["stopped"], false, "{doc}");
    doc
}

/// One `exec` of a command to the payment, as the provider's answer.
fn answer(cli: &Cli, id: &str, command: &str) -> Value {
    cli.run(&["exec", "payment", id, command, "--json"])
        .ok()
        .json()
}

#[test]
fn a_payment_that_does_not_answer_cancels_the_order_in_one_command() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "t-1", "beans", 2);
    // The transfer waits: the stock is reserved, nothing is charged.
    assert_eq!(state(&cli, "order", "t-1").unwrap()["state"], "Reserved");
    assert_eq!(state(&cli, "payment", "t-1").unwrap()["state"], "Pending");
    assert_eq!(stock(&cli, "beans"), 8);
    let pending = alarms(&cli, "payment", "t-1", None);
    assert_eq!(
        set(&pending),
        [("payment-timeout".to_owned(), 1), ("expiry".to_owned(), 1)]
    );
    assert_eq!(pending["alarms"][0]["command"], "TimeOutCharge");
    assert_eq!(pending["alarms"][0]["overdue"], false);
    // Not yet due: a run now fires nothing.
    assert_eq!(cli.run(&["run", "--json"]).ok().json()["alarms"], 0);
    // Due by then.
    let later = alarms(&cli, "payment", "t-1", Some("+PT16M"));
    assert_eq!(later["alarms"][0]["overdue"], true);
    assert_eq!(later["alarms"][1]["overdue"], false);

    let doc = run_at(&cli, "+PT16M");
    assert_eq!(doc["alarms"], 1, "{doc}");
    let fired = &doc["fired"][0];
    assert_eq!(
        (&fired["aggregate"], &fired["alarm"], &fired["outcome"]),
        (
            &json!("payment#t-1"),
            &json!("payment-timeout"),
            &json!("applied")
        ),
        "{doc}"
    );
    // The timeout, then the compensation: the reservation cancelled, the
    // stock released, the order cancelled.
    assert_eq!(doc["applied"], 4, "{doc}");
    let order = state(&cli, "order", "t-1").unwrap();
    assert_eq!(order["state"], "Cancelled");
    assert_eq!(order["data"]["reason"], "payment timed out");
    assert_eq!(state(&cli, "payment", "t-1").unwrap()["state"], "TimedOut");
    assert_eq!(stock(&cli, "beans"), 10, "the stock is back");
    // Nothing charged, nothing refunded.
    invariants_hold(&cli, &[("t-1", "beans", 2)]);
    // The walk from the order follows the alarm as the scan finds it.
    assert_eq!(
        path(&cli, "t-1"),
        steps(&[
            ("order#t-1", "OrderCreated"),
            ("inventory#beans", "StockReserved"),
            ("order#t-1", "ItemReserved"),
            ("payment#t-1", "ChargeRequested"),
            ("payment#t-1", "ChargeTimedOut"),
            ("order#t-1", "ReservationCancelled"),
            ("inventory#beans", "StockReleased"),
            ("order#t-1", "OrderCancelled"),
        ])
    );
    // The timeout is consumed; the expiry is still set.
    assert_eq!(
        set(&alarms(&cli, "payment", "t-1", None)),
        [("expiry".to_owned(), 1)]
    );
    // Delivered: a later run does not fire it again.
    assert_eq!(run_at(&cli, "+PT30M")["alarms"], 0);
}

#[test]
fn a_confirmation_in_time_confirms_the_order_and_clears_the_timeout() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "t-2", "beans", 2);
    let doc = answer(&cli, "t-2", "ConfirmCharge");
    assert_eq!(doc["reactions"]["applied"], 2, "{doc}");
    assert_eq!(state(&cli, "order", "t-2").unwrap()["state"], "Confirmed");
    assert_eq!(state(&cli, "payment", "t-2").unwrap()["state"], "Charged");
    // The timeout is cleared; the expiry set again by the confirmation.
    assert_eq!(
        set(&alarms(&cli, "payment", "t-2", None)),
        [("expiry".to_owned(), 2)]
    );
    assert_eq!(run_at(&cli, "+PT16M")["alarms"], 0, "nothing to fire");
    assert_eq!(stock(&cli, "beans"), 8);
    invariants_hold(&cli, &[("t-2", "beans", 2)]);
}

#[test]
fn a_decline_in_time_releases_the_stock_and_cancels() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "t-3", "beans", 2);
    answer(&cli, "t-3", "DeclineCharge");
    let order = state(&cli, "order", "t-3").unwrap();
    assert_eq!(order["state"], "Cancelled");
    assert_eq!(order["data"]["reason"], "payment declined");
    assert_eq!(state(&cli, "payment", "t-3").unwrap()["state"], "Declined");
    assert_eq!(
        set(&alarms(&cli, "payment", "t-3", None)),
        [("expiry".to_owned(), 1)]
    );
    assert_eq!(run_at(&cli, "+PT16M")["alarms"], 0);
    invariants_hold(&cli, &[("t-3", "beans", 2)]);
}

/// The provider answers after the timeout cancelled the order: a late
/// confirmation is refunded at once, a late decline has nothing to undo;
/// neither is refused (so neither would reach a DLQ) and the order stays
/// cancelled.
#[test]
fn a_late_answer_is_compensated_never_refused() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "late-1", "beans", 2);
    place_by_transfer(&cli, "late-2", "beans", 3);
    let doc = run_at(&cli, "+PT16M");
    assert_eq!(doc["alarms"], 2, "{doc}");

    let confirmed = answer(&cli, "late-1", "ConfirmCharge");
    assert_eq!(confirmed["outcome"]["outcome"], "applied");
    assert_eq!(
        confirmed["reactions"]["commands"], 0,
        "the order is not told"
    );
    let payment = state(&cli, "payment", "late-1").unwrap();
    assert_eq!(payment["state"], "Refunded");
    let events = cli.events("payment", "late-1");
    assert_eq!(events.last().unwrap()["eventType"], "LateChargeRefunded");

    answer(&cli, "late-2", "DeclineCharge");
    assert_eq!(
        state(&cli, "payment", "late-2").unwrap()["state"],
        "Declined"
    );
    for id in ["late-1", "late-2"] {
        assert_eq!(state(&cli, "order", id).unwrap()["state"], "Cancelled");
    }
    invariants_hold(&cli, &[("late-1", "beans", 2), ("late-2", "beans", 3)]);
}

/// Every payment expires a year after its last change of money: set by the
/// charge, set again by a refund. `--now` a year and a day on archives them.
#[test]
fn the_expiry_fires_a_year_on_and_a_refund_reschedules_it() {
    let cli = Cli::new();
    restock(&cli);
    place(&cli, "e-1", "beans", 1);
    place(&cli, "e-2", "espresso", 1); // refused confirmation: refunded
    assert_eq!(
        set(&alarms(&cli, "payment", "e-1", None)),
        [("expiry".to_owned(), 1)]
    );
    assert_eq!(
        set(&alarms(&cli, "payment", "e-2", None)),
        [("expiry".to_owned(), 2)],
        "the refund set it again"
    );
    assert_eq!(run_at(&cli, "+P11M")["alarms"], 0, "not yet");

    let doc = run_at(&cli, "+P1Y1D");
    assert_eq!(doc["alarms"], 2, "{doc}");
    for (id, version) in [("e-1", 2), ("e-2", 3)] {
        let payment = state(&cli, "payment", id).unwrap();
        assert_eq!(
            (&payment["state"], &payment["version"]),
            (&json!("Archived"), &json!(version))
        );
        let doc = alarms(&cli, "payment", id, None);
        assert!(set(&doc).is_empty(), "{doc}");
    }
    // The orders are untouched by their payments' expiry.
    assert_eq!(state(&cli, "order", "e-1").unwrap()["state"], "Confirmed");
    assert_eq!(state(&cli, "order", "e-2").unwrap()["state"], "Cancelled");
}

#[test]
fn alarms_lists_name_due_command_and_version_and_marks_the_overdue() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "l-1", "beans", 1);
    let run = cli.run(&["alarms", "payment", "l-1"]).ok();
    let lines = run.lines();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    let words = |line: &str| {
        line.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(words(lines[0]), ["name", "due", "command", "set", "by"]);
    let timeout = words(lines[1]);
    assert_eq!(timeout[0], "payment-timeout");
    assert_eq!(timeout[2..], ["TimeOutCharge", "v1"], "{}", run.stdout);
    let expiry = words(lines[2]);
    assert_eq!(expiry[0], "expiry");
    assert_eq!(expiry[2..], ["Archive", "v1"], "{}", run.stdout);
    assert!(!run.stdout.contains("overdue"), "{}", run.stdout);
    // The due time is an RFC 3339 time that `--now` accepts: at it, the
    // timeout is overdue and the expiry is not.
    let due = timeout[1].clone();
    let run = cli.run(&["alarms", "payment", "l-1", "--now", &due]).ok();
    assert!(
        run.lines()[1].contains(&format!("{due} overdue")),
        "{}",
        run.stdout
    );
    assert!(!run.lines()[2].contains("overdue"), "{}", run.stdout);

    // No alarm set: a note, exit 0; no events: exit 1.
    let none = cli.run(&["alarms", "inventory", "beans"]).ok();
    assert!(none.stdout.is_empty(), "{}", none.stdout);
    assert!(none.stderr.contains("has no alarm set"), "{}", none.stderr);
    let missing = cli.run(&["alarms", "payment", "nobody"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("no events for payment#nobody"));
}

#[test]
fn now_takes_a_time_or_a_duration_and_refuses_anything_else() {
    let cli = Cli::new();
    restock(&cli);
    // An exec at a time of its own: the event is recorded then, and the
    // alarms it sets are due from then.
    let doc = cli
        .run(&[
            "exec",
            "payment",
            "n-1",
            "Charge",
            "--payload",
            r#"{"amount":5,"currency":"EUR","method":"transfer"}"#,
            "--now",
            "2030-01-01T00:00:00Z",
            "--no-react",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(doc["outcome"]["outcome"], "applied");
    let events = cli.events("payment", "n-1");
    let recorded: Timestamp = events[0]["recordedAt"].as_str().unwrap().parse().unwrap();
    let set_at: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    assert!(
        recorded >= set_at && recorded < "2030-01-02T00:00:00Z".parse().unwrap(),
        "{events:?}"
    );
    // Due 15 minutes after it was set, rounded up to the second.
    let doc = alarms(&cli, "payment", "n-1", None);
    let due: Timestamp = doc["alarms"][0]["due"].as_str().unwrap().parse().unwrap();
    let fifteen = SignedDuration::from_mins(15);
    let after = due.duration_since(recorded);
    assert!(
        after >= fifteen && after < fifteen + SignedDuration::from_secs(2),
        "{doc}"
    );
    for bad in ["tomorrow", "+15m", "+P", "2030-13-01T00:00:00Z"] {
        let run = cli.run(&["run", "--now", bad]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--now"), "{bad}: {}", run.stderr);
    }
}
