//! The console in a real headless browser (Debian's chromium through
//! chromedriver) against `cmdctl serve` on loopback: an order placed by the
//! API, its trace with every step of the saga in order, the payment with
//! its alarm and its diagram, values hidden until asked for, and an
//! aggregate id holding markup shown as text. Screenshots of each page go
//! to `target/screenshots/`.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::browser::Browser;
use testkit::browser::fantoccini::Locator;
use testkit::progress::Progress;

use crate::harness::*;
use crate::serve::http;

fn post(addr: &str, key: &str, body: &Value) -> Value {
    let answer = http(
        addr,
        "POST",
        "/commands",
        &[("Idempotency-Key", key)],
        Some(body),
    );
    assert_eq!(answer.status, 200, "{key}: {}", answer.body);
    answer.body
}

/// The trace of `id` once its saga has stopped moving and holds an event of
/// the payment: waits while the trace grows.
fn settled_trace(addr: &str, id: &str) -> Vec<Value> {
    let mut progress = Progress::new(Duration::from_secs(60));
    let mut last = 0;
    let mut same = 0;
    loop {
        let answer = http(addr, "GET", &format!("/traces/{id}"), &[], None);
        let events = answer.body["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let paid = events.iter().any(|e| e["aggregateType"] == "payment");
        same = if events.len() == last { same + 1 } else { 0 };
        last = events.len();
        // Settled: the payment is in, and three more looks saw nothing new.
        if paid && same >= 3 {
            return events;
        }
        progress
            .check(events.len())
            .unwrap_or_else(|stalled| panic!("the saga stalled: {stalled}"));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_console_shows_the_saga_the_payment_and_ids_as_text() {
    let cli = Cli::new();
    let server = cli.serve(&[]);
    let addr = server.addr().to_string();
    post(
        &addr,
        "restock-1",
        &json!({"aggregateType": "inventory", "aggregateId": "milk-frother",
        "command": "Restock", "payload": {"quantity": 5, "price": 120}}),
    );
    post(
        &addr,
        "place-o-1",
        &json!({"aggregateType": "order", "aggregateId": "o-1",
        "command": "CreateOrder",
        "payload": {"itemId": "milk-frother", "quantity": 1, "paymentMethod": "transfer"},
        "metadata": {"correlationId": "flow-1"}}),
    );
    let hostile = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>";
    post(
        &addr,
        "open-hostile",
        &json!({"aggregateType": "ticket", "aggregateId": hostile,
        "command": "OpenTicket", "payload": {"title": "secret title"}}),
    );
    let trace = settled_trace(&addr, "flow-1");
    let payment = trace
        .iter()
        .rev()
        .find(|e| e["aggregateType"] == "payment")
        .expect("a payment event");
    let payment_id = payment["aggregateId"].as_str().expect("an id").to_owned();

    block_on(async {
        let browser = Browser::start().await;
        let base = format!("http://{addr}/");

        // The types and their aggregates.
        browser.goto(&base).await;
        let orders = browser
            .text_when("section[data-type=\"order\"] tbody", |t| t.contains("o-1"))
            .await;
        assert!(orders.contains("o-1"), "{orders}");
        browser.screenshot("console-types").await;

        // The trace: every step, in the API's causal order.
        browser.goto(&format!("{base}#/traces/flow-1")).await;
        let steps = browser
            .text_when("#steps tbody", |t| t.lines().count() >= trace.len())
            .await;
        let shown: Vec<&str> = steps.lines().collect();
        assert_eq!(shown.len(), trace.len(), "one row a step:\n{steps}");
        for (row, event) in shown.iter().zip(&trace) {
            let event_type = event["eventType"].as_str().unwrap();
            assert!(
                row.contains(event_type),
                "{row} is not {event_type}:\n{steps}"
            );
        }
        let alarms = browser.text_of("#trace-alarms").await;
        assert!(alarms.contains("payment-timeout"), "{alarms}");
        browser.screenshot("console-trace").await;

        // The payment: its state, its alarm, its diagram with the state marked.
        browser
            .goto(&format!(
                "{base}#/aggregates/payment/{}",
                urlencode(&payment_id)
            ))
            .await;
        let alarm = browser
            .text_when("#alarms", |t| t.contains("payment-timeout"))
            .await;
        assert!(
            alarm.contains("TimeOutCharge") && alarm.contains("pending"),
            "{alarm}"
        );
        assert_eq!(browser.text_of("#state").await, "Pending");
        let drawn = browser
            .client()
            .execute(
                "const img = document.querySelector('.diagram img'); \
                 return img.complete && img.naturalWidth > 0;",
                vec![],
            )
            .await
            .expect("the script runs");
        assert_eq!(drawn, json!(true), "the diagram loads under the policy");
        let timeline = browser.text_of("#timeline tbody").await;
        assert!(
            timeline.contains("ChargeRequested") && timeline.contains("Charge"),
            "{timeline}"
        );

        // Values are hidden until asked for.
        browser.goto(&format!("{base}#/aggregates/order/o-1")).await;
        let hidden = browser
            .text_when("pre.values", |t| t.contains("itemId"))
            .await;
        assert!(!hidden.contains("milk-frother"), "{hidden}");
        browser
            .client()
            .find(Locator::Css("section.panel button"))
            .await
            .expect("the show button")
            .click()
            .await
            .expect("clicked");
        let shown = browser
            .text_when("pre.values", |t| t.contains("milk-frother"))
            .await;
        assert!(shown.contains("milk-frother"));
        browser.screenshot("console-order").await;
        browser
            .goto(&format!(
                "{base}#/aggregates/payment/{}",
                urlencode(&payment_id)
            ))
            .await;
        browser
            .text_when("#alarms", |t| t.contains("payment-timeout"))
            .await;
        browser.screenshot("console-payment").await;

        // An id holding markup is text, and nothing it holds runs.
        browser
            .goto(&format!("{base}#/aggregates/ticket/{}", urlencode(hostile)))
            .await;
        let title = browser.text_when("h1", |t| t.contains("ticket /")).await;
        assert_eq!(title, format!("ticket / {hostile}"));
        let ran = browser
            .client()
            .execute("return [window.__xss === undefined, document.querySelectorAll('main img[src=x], main script').length];", vec![])
            .await
            .expect("the script runs");
        assert_eq!(
            ran,
            json!([true, 0]),
            "nothing from the id ran or was parsed"
        );
        browser.close().await;
    });
}

/// `encodeURIComponent`, as the console builds its links.
fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
