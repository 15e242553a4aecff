//! `cmdctl ingest`: outside events from a file or stdin, one JSON event or
//! JSON lines of them, run as one batch through the bindings.

use serde_json::{Value, json};

use crate::harness::*;

/// The provider's event `id` of `detail_type` about order `order`.
pub(crate) fn provider_event(id: &str, detail_type: &str, detail: Value) -> String {
    json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": "payments.provider",
        "account": "123456789012", "time": "2030-01-01T12:00:00Z", "region": "eu-west-1",
        "resources": [], "detail": detail
    })
    .to_string()
}

/// An order `id` of 2 beans paid by transfer, placed on a fresh stock: its
/// payment waits for the provider.
pub(crate) fn place_transfer(cli: &Cli, id: &str) {
    cli.run(&[
        "exec",
        "inventory",
        "beans",
        "Restock",
        "--payload",
        r#"{"quantity":10,"price":4}"#,
        "--command-id",
        &format!("restock-for-{id}"),
    ])
    .ok();
    cli.run(&[
        "exec",
        "order",
        id,
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":2,"paymentMethod":"transfer"}"#,
        "--command-id",
        &format!("place-{id}"),
    ])
    .ok();
}

#[test]
fn json_lines_from_stdin_are_one_batch_and_a_refusal_exits_1() {
    let cli = Cli::new();
    place_transfer(&cli, "o-1");
    let lines = [
        provider_event(
            "e-1",
            "PaymentSucceeded",
            json!({"orderId": "o-1", "reference": "r-1"}),
        ),
        String::new(),
        provider_event("e-2", "PaymentRefunded", json!({"orderId": "o-1"})),
        provider_event("e-3", "PaymentSucceeded", json!({"reference": "r-3"})),
    ]
    .join("\n");
    let run = cli.run_with_stdin(&["ingest", "--json", "-"], &lines);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    let outcomes = out["outcomes"].as_array().expect("outcomes");
    let summary: Vec<(&str, &str)> = outcomes
        .iter()
        .map(|o| {
            (
                o["outcome"].as_str().unwrap(),
                o["reasonCode"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("applied", ""),
            ("rejected", "unbound_event"),
            ("rejected", "binding_failed")
        ]
    );
    assert_eq!(outcomes[0]["commandId"], "payments.provider/e-1");
    assert_eq!(outcomes[0]["aggregate"], "payment#o-1");
    assert!(outcomes[1]["reason"].as_str().unwrap().contains("e-2"));
    // The reactions ran: the charge confirmed paid and confirmed the order.
    assert_eq!(out["reactions"]["failed"], 0, "{out}");
    let order = cli.run(&["state", "order", "o-1", "--json"]).ok().json();
    assert_eq!(order["state"], "Confirmed", "{order}");
}

#[test]
fn input_that_is_no_event_list_is_refused_before_anything_runs() {
    let cli = Cli::new();
    let run = cli.run_with_stdin(&["ingest", "-"], "{\"id\":1}\nnot json\n");
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("line 2 is not a JSON object"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn config_bindings_prints_one_rule_per_binding_and_refuses_one_event_bound_twice() {
    let cli = Cli::new();
    let text = cli.run(&["config", "bindings"]).ok();
    let lines = text.lines();
    assert_eq!(lines.len(), 2, "{}", text.stdout);
    assert!(lines[1].contains("payments.provider  PaymentSucceeded  -> payment.ConfirmCharge"));
    let doc = cli.run(&["config", "bindings", "--json"]).ok().json();
    let rules = doc["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    assert_eq!(
        rules[0]["eventPattern"],
        json!({"source": ["payments.provider"], "detail-type": ["PaymentFailed"]})
    );

    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::copy(
        config_dir().join("payment.json"),
        dir.path().join("payment.json"),
    )
    .expect("copied");
    let ledger = json!({
        "aggregateType": "ledger", "version": 1, "initialState": "Open", "states": ["Open"],
        "transitions": [{"command": "Note", "from": ["Open"], "to": "Open", "event": "Noted"}],
        "bindings": [{"source": "payments.provider", "detailType": "PaymentFailed",
                      "command": "Note", "aggregateId": "l-1"}]
    });
    std::fs::write(dir.path().join("ledger.json"), ledger.to_string()).expect("written");
    let refused = cli.run(&[
        "--config-dir",
        dir.path().to_str().unwrap(),
        "config",
        "bindings",
    ]);
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stdout
            .contains("both bind source `payments.provider` and detail-type `PaymentFailed`"),
        "{}",
        refused.stdout
    );
}

/// The deploy step's template (`stack.py render`, as `deploy` sends it)
/// holds exactly the rules `config bindings --json` prints: given that
/// output, and running cmdctl itself (`$CMDCTL`) when given none.
#[test]
fn the_deploy_template_makes_the_rules_config_bindings_prints() {
    let cli = Cli::new();
    let printed = cli.run(&["config", "bindings", "--json"]).ok();
    let rules = printed.json()["rules"].clone();
    let stack_py = repo().join("cmd/command-handler/deploy/stack.py");
    let rendered = |with_stdin: bool| -> Value {
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(&stack_py).arg("render");
        if with_stdin {
            cmd.args(["--bindings", "-"]);
        }
        cmd.env("CMDCTL", env!("CARGO_BIN_EXE_cmdctl"));
        let run = run_with_stdin(cmd, &printed.stdout);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).expect("the template is JSON")
    };
    for template in [rendered(true), rendered(false)] {
        let resources = template["Resources"].as_object().expect("resources");
        let made = resources
            .values()
            .filter(|r| r["Type"] == "AWS::Events::Rule")
            .count();
        assert_eq!(made, rules.as_array().unwrap().len());
        for rule in rules.as_array().unwrap() {
            let id = rule["logicalId"].as_str().unwrap();
            let properties = &resources[id]["Properties"];
            assert_eq!(properties["EventPattern"], rule["eventPattern"], "{id}");
            assert_eq!(
                properties["Targets"][0]["Arn"],
                json!({"Fn::GetAtt": ["CommandQueue", "Arn"]})
            );
        }
    }
}
