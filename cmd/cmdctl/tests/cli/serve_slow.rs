//! `cmdctl serve` and slow or too many clients, through a real socket: a
//! client that never finishes its headers is closed after the read timeout
//! without an answer; one that never finishes its body is answered 408;
//! with `--max-concurrent 1`, a request holding the one slot (its body sent
//! slowly) makes every other request 503 `overloaded` with `Retry-After`,
//! and then completes normally.
//!
//! The waits are for the server to act; each is guarded against a hang
//! only (a minute without the expected event), never timed.

use std::future::Future;
use std::time::Duration;

use serde_json::json;
use testkit::http::{Connection, Request, Response};

use crate::harness::{Cli, block_on};

/// Only a server that never acts reaches it.
const HANG: Duration = Duration::from_secs(60);

async fn unless_hung<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing after {HANG:?}; the server hangs"))
}

fn assert_problem(answer: &Response, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text());
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.json()["code"], code, "{}", answer.text());
    assert_eq!(answer.json()["status"], status);
    assert!(!answer.text().contains("<script>"), "{}", answer.text());
}

fn open_ticket(id: &str) -> serde_json::Value {
    json!({"aggregateType": "ticket", "aggregateId": id, "command": "OpenTicket",
           "payload": {"title": "slow", "description": "<script>alert(1)</script>"}})
}

#[test]
fn a_client_that_never_ends_its_headers_is_closed_without_an_answer() {
    let cli = Cli::new();
    let server = cli.serve(&["--read-timeout", "1"]);
    block_on(async {
        let mut slow = Connection::open(server.addr()).await.unwrap();
        slow.write(b"POST /commands HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n")
            .await
            .unwrap();
        let said = unless_hung("slow headers", slow.read_until_closed())
            .await
            .expect("closed");
        assert!(
            said.is_empty(),
            "closed with an answer: {}",
            String::from_utf8_lossy(&said)
        );
        // The server goes on answering others.
        let mut other = Connection::open(server.addr()).await.unwrap();
        let health = other.send(&Request::get("/healthz")).await.unwrap();
        assert_eq!(health.status, 200);
    });
}

#[test]
fn a_client_that_never_ends_its_body_is_answered_408() {
    let cli = Cli::new();
    let server = cli.serve(&["--read-timeout", "1"]);
    block_on(async {
        let body = open_ticket("t-slow-body").to_string();
        let request = Request::post_json("/commands", &json!({})).body(body.clone());
        let mut slow = Connection::open(server.addr()).await.unwrap();
        // The head declares the whole body; a third of it is sent.
        slow.write(&request.head_bytes()).await.unwrap();
        slow.write(&body.as_bytes()[..body.len() / 3])
            .await
            .unwrap();
        let answer = unless_hung("slow body", slow.read_response("POST"))
            .await
            .expect("an answer");
        assert_problem(&answer, 408, "bad_request");
        let mut other = Connection::open(server.addr()).await.unwrap();
        let read = other
            .send(&Request::get("/aggregates/ticket/t-slow-body"))
            .await
            .unwrap();
        assert_eq!(read.status, 404, "nothing was applied: {}", read.text());
    });
}

#[test]
fn with_one_slot_held_by_a_slow_body_others_are_503_and_the_held_one_completes() {
    let cli = Cli::new();
    let server = cli.serve(&["--max-concurrent", "1", "--read-timeout", "600"]);
    let addr = server.addr();
    block_on(async {
        let body = open_ticket("t-held").to_string();
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        let request = Request::post_json("/commands", &json!({}))
            .header("idempotency-key", "held-1")
            .body(body.clone());
        let mut held = Connection::open(addr).await.unwrap();
        held.write(&request.head_bytes()).await.unwrap();
        held.write(first).await.unwrap();

        // Once the held request is in the server (its headers read), every
        // other request is refused at once. Before that, one may still pass:
        // poll until the refusal comes.
        let mut polls = 0;
        let refused = loop {
            polls += 1;
            let mut other = Connection::open(addr).await.unwrap();
            let answer = unless_hung("a poll", other.send(&Request::get("/healthz")))
                .await
                .unwrap();
            match answer.status {
                503 => break answer,
                200 if polls < 3000 => tokio::time::sleep(Duration::from_millis(10)).await,
                _ => panic!(
                    "after {polls} polls, the held request never took the slot: {} {}",
                    answer.status,
                    answer.text()
                ),
            }
        };
        assert_problem(&refused, 503, "overloaded");
        assert_eq!(refused.header("retry-after"), Some("1"));

        // A command sent meanwhile is refused the same way, and not applied.
        let mut other = Connection::open(addr).await.unwrap();
        let command = other
            .send(&Request::post_json("/commands", &open_ticket("t-refused")))
            .await
            .unwrap();
        assert_problem(&command, 503, "overloaded");
        assert!(command.header("retry-after").is_some());

        // The held request completes normally.
        held.write(rest).await.unwrap();
        let answer = unless_hung("the held request", held.read_response("POST"))
            .await
            .expect("an answer");
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.json()["outcome"], "applied");
        assert_eq!(answer.json()["commandId"], "held-1");
        assert_eq!(answer.json()["version"], 1);

        // The slot is free again: the refused command goes through now.
        let mut other = Connection::open(addr).await.unwrap();
        let read = other
            .send(&Request::get("/aggregates/ticket/t-refused"))
            .await
            .unwrap();
        assert_eq!(read.status, 404, "the refused command was not applied");
        let resent = other
            .send(&Request::post_json("/commands", &open_ticket("t-refused")))
            .await
            .unwrap();
        assert_eq!(resent.status, 200, "{}", resent.text());
    });
    assert!(!server.stderr().contains("panicked"));
}
