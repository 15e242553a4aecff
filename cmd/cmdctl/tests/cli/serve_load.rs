//! `cmdctl serve` under load, on loopback: 64 clients, each on one
//! keep-alive connection, send commands with waits across many aggregates
//! (each created once) and within a few (many commands on the same one),
//! resend some with the same key, and read-then-write with
//! `expectedVersion`. The config is `tests/fixtures/http_load/counter.json`:
//! `Open`, then `Add` (a self-loop that counts itself in `data.count`).
//!
//! Then: every request got exactly one answer; each is 200 `applied` or
//! `duplicate`, or 409 `version_conflict` where one may come (503
//! `overloaded` is sent again; nothing else); the store holds one event per
//! command id answered `applied`, none twice, with the answered version,
//! versions gapless, each head's count equal to its `Add` events. Counts
//! only: no time is asserted, and each request is guarded against a hang
//! only.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::http::{Connection, Request, Response};

use crate::harness::{Cli, block_on, repo};

const CLIENTS: usize = 64;
/// Aggregates each client creates.
const ACROSS: usize = 8;
/// `Add`s each client sends to the hot aggregates.
const WITHIN: usize = 8;
/// The hot aggregates.
const HOT: usize = 4;
/// Read-then-write `Add`s per client (`expectedVersion` just read).
const CHECKED: usize = 2;
/// Only a server that stopped answering reaches it.
const HANG: Duration = Duration::from_secs(120);

/// What a command was sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Open,
    Add,
    /// `expectedVersion` as just read: applied, or 409 if another won.
    Checked,
    /// `expectedVersion: 0` of an aggregate that exists: always 409.
    Stale,
    /// The same request again (same key, same body).
    Resend,
}

/// One command request and its answer.
#[derive(Debug)]
struct Answered {
    command_id: String,
    aggregate_id: String,
    kind: Kind,
    status: u16,
    outcome: Option<String>,
    code: Option<String>,
    version: Option<u64>,
}

/// One client's connection and everything it was answered.
struct Client {
    connection: Connection,
    answered: Vec<Answered>,
    requests: usize,
    responses: usize,
    overloaded: usize,
}

impl Client {
    /// Sends, and sends again while the answer is 503 `overloaded`.
    async fn send(&mut self, request: &Request) -> Response {
        loop {
            self.requests += 1;
            let answer = tokio::time::timeout(HANG, self.connection.send(request))
                .await
                .unwrap_or_else(|_| panic!("no answer to {} after {HANG:?}", request.target))
                .unwrap_or_else(|e| panic!("{}: the connection failed: {e}", request.target));
            self.responses += 1;
            if answer.status == 503 && answer.json()["code"] == "overloaded" {
                assert!(answer.header("retry-after").is_some());
                self.overloaded += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            return answer;
        }
    }

    /// Sends a command: its id in the body, or (every other one) as the
    /// `Idempotency-Key` header only.
    async fn command(&mut self, id: &str, aggregate: &str, command: &str, kind: Kind) {
        let mut body = json!({"aggregateType": "counter", "aggregateId": aggregate,
                              "command": command, "payload": {"note": id}});
        let request = self.request(id, &mut body, kind);
        self.record(id, aggregate, kind, &request).await;
    }

    fn request(&self, id: &str, body: &mut Value, kind: Kind) -> Request {
        if kind == Kind::Stale {
            body["expectedVersion"] = json!(0);
        }
        let request = if id.len().is_multiple_of(2) {
            Request::post_json("/commands", body).header("idempotency-key", id)
        } else {
            body["commandId"] = json!(id);
            Request::post_json("/commands", body)
        };
        request.header("prefer", "wait")
    }

    async fn record(&mut self, id: &str, aggregate: &str, kind: Kind, request: &Request) {
        let answer = self.send(request).await;
        let doc = answer.json();
        self.answered.push(Answered {
            command_id: id.to_owned(),
            aggregate_id: aggregate.to_owned(),
            kind,
            status: answer.status,
            outcome: doc["outcome"].as_str().map(str::to_owned),
            code: doc["code"].as_str().map(str::to_owned),
            version: doc["version"].as_u64(),
        });
        if answer.status == 200 {
            assert_eq!(doc["commandId"], id, "{}", answer.text());
        }
    }

    async fn version_of(&mut self, aggregate: &str) -> u64 {
        let answer = self
            .send(&Request::get(&format!("/aggregates/counter/{aggregate}")))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        answer.json()["version"].as_u64().expect("a version")
    }
}

async fn client(addr: SocketAddr, c: usize) -> Client {
    let mut me = Client {
        connection: Connection::open(addr).await.expect("connect"),
        answered: Vec::new(),
        requests: 0,
        responses: 0,
        overloaded: 0,
    };
    let mut last = None;
    for i in 0..ACROSS.max(WITHIN) {
        if i < ACROSS {
            let (id, aggregate) = (format!("open-{c}-{i}"), format!("c-{c}-{i}"));
            me.command(&id, &aggregate, "Open", Kind::Open).await;
            last = Some((id, aggregate, "Open"));
        }
        if i < WITHIN {
            let (id, aggregate) = (format!("add-{c}-{i}"), format!("hot-{}", (c + i) % HOT));
            me.command(&id, &aggregate, "Add", Kind::Add).await;
            last = Some((id, aggregate, "Add"));
        }
        // Every third round, the last command again, as a client that lost
        // its answer would send it.
        if i % 3 == 0
            && let Some((id, aggregate, command)) = &last
        {
            me.command(id, aggregate, command, Kind::Resend).await;
        }
    }
    for j in 0..CHECKED {
        let aggregate = format!("hot-{}", (c + j) % HOT);
        let version = me.version_of(&aggregate).await;
        let id = format!("checked-{c}-{j}");
        let mut body = json!({"aggregateType": "counter", "aggregateId": aggregate,
                              "command": "Add", "expectedVersion": version});
        let request = me.request(&id, &mut body, Kind::Checked);
        me.record(&id, &aggregate, Kind::Checked, &request).await;
    }
    let aggregate = format!("hot-{}", c % HOT);
    me.command(&format!("stale-{c}"), &aggregate, "Add", Kind::Stale)
        .await;
    // A late resend of the client's first command.
    me.command(
        &format!("open-{c}-0"),
        &format!("c-{c}-0"),
        "Open",
        Kind::Resend,
    )
    .await;
    me
}

/// Every page of a GET that answers `{items|events, next}`.
async fn pages(connection: &mut Connection, base: &str, field: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if base.contains('?') { '&' } else { '?' };
        let target = match &after {
            Some(a) => format!("{base}{sep}limit=1000&after={a}"),
            None => format!("{base}{sep}limit=1000"),
        };
        let page = connection.send(&Request::get(&target)).await.unwrap();
        assert_eq!(page.status, 200, "{target}: {}", page.text());
        let doc = page.json();
        out.extend(doc[field].as_array().expect("a page").iter().cloned());
        match &doc["next"] {
            Value::Null => return out,
            Value::String(next) => after = Some(next.clone()),
            next => after = Some(next.to_string()),
        }
    }
}

#[test]
fn sixty_four_clients_get_one_answer_each_and_the_store_holds_each_applied_command_once() {
    let cli = Cli::new();
    let configs = repo().join("tests/fixtures/http_load");
    let server = cli.serve(&["--config-dir", configs.to_str().unwrap()]);
    let addr = server.addr();

    let clients = block_on(async {
        // The hot aggregates exist before the clients start.
        let mut setup = Connection::open(addr).await.unwrap();
        for h in 0..HOT {
            let open = json!({"commandId": format!("open-hot-{h}"), "aggregateType": "counter",
                              "aggregateId": format!("hot-{h}"), "command": "Open"});
            let answer = setup
                .send(&Request::post_json("/commands", &open))
                .await
                .unwrap();
            assert_eq!(answer.status, 200, "{}", answer.text());
        }
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|c| tokio::spawn(client(addr, c)))
            .collect();
        let mut clients = Vec::new();
        for task in tasks {
            clients.push(task.await.expect("a client ends"));
        }
        clients
    });

    // Every request got exactly one answer, each an expected one.
    let requests: usize = clients.iter().map(|c| c.requests).sum();
    let responses: usize = clients.iter().map(|c| c.responses).sum();
    let overloaded: usize = clients.iter().map(|c| c.overloaded).sum();
    assert_eq!(requests, responses);
    let answered: Vec<&Answered> = clients.iter().flat_map(|c| &c.answered).collect();
    let per_client = ACROSS + WITHIN + ACROSS.max(WITHIN).div_ceil(3) + CHECKED + 2;
    assert_eq!(answered.len(), CLIENTS * per_client);
    let mut wrong = Vec::new();
    for a in &answered {
        let fine = matches!(
            (a.status, a.outcome.as_deref(), a.code.as_deref(), a.kind),
            (
                200,
                Some("applied"),
                _,
                Kind::Open | Kind::Add | Kind::Checked
            ) | (200, Some("duplicate"), _, Kind::Resend)
                | (
                    409,
                    _,
                    Some("version_conflict"),
                    Kind::Checked | Kind::Stale
                )
        );
        if !fine {
            wrong.push(format!("{a:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} unexpected answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // What the answers say was applied, and at which version.
    let mut applied: BTreeMap<&str, (&str, u64)> = BTreeMap::new();
    for a in answered
        .iter()
        .filter(|a| a.outcome.as_deref() == Some("applied"))
    {
        let version = a.version.expect("a version");
        let before = applied.insert(&a.command_id, (&a.aggregate_id, version));
        assert!(before.is_none(), "{} applied twice", a.command_id);
    }
    for a in answered.iter().filter(|a| a.kind == Kind::Resend) {
        let (aggregate, version) = applied
            .get(a.command_id.as_str())
            .unwrap_or_else(|| panic!("{} is a duplicate of nothing", a.command_id));
        assert_eq!(
            (*aggregate, Some(*version)),
            (a.aggregate_id.as_str(), a.version),
            "{}: a duplicate answers the first version",
            a.command_id
        );
    }

    // What the store holds, read back through the API.
    block_on(async {
        let mut reader = Connection::open(addr).await.unwrap();
        let listed = pages(&mut reader, "/aggregates/counter", "items").await;
        assert_eq!(listed.len(), HOT + CLIENTS * ACROSS);
        let mut seen: BTreeMap<String, (String, u64)> = BTreeMap::new();
        let mut adds = 0;
        for item in &listed {
            let id = item["aggregateId"].as_str().unwrap();
            let events = pages(
                &mut reader,
                &format!("/aggregates/counter/{id}/events"),
                "events",
            )
            .await;
            let versions: Vec<u64> = events
                .iter()
                .map(|e| e["version"].as_u64().unwrap())
                .collect();
            let gapless: Vec<u64> = (1..=events.len() as u64).collect();
            assert_eq!(versions, gapless, "{id}: versions gapless");
            assert_eq!(
                item["version"],
                json!(events.len()),
                "{id}: the listing's version"
            );
            for e in &events {
                let command_id = e["commandId"].as_str().unwrap().to_owned();
                let at = (id.to_owned(), e["version"].as_u64().unwrap());
                if let Some(first) = seen.insert(command_id.clone(), at) {
                    panic!("{command_id} stored twice (first at {first:?})");
                }
            }
            let head = reader
                .send(&Request::get(&format!("/aggregates/counter/{id}")))
                .await
                .unwrap();
            let head = head.json();
            let added = events.iter().filter(|e| e["eventType"] == "Added").count();
            adds += added;
            assert_eq!(head["version"], json!(events.len()), "{id}");
            assert_eq!(
                head["data"]["count"],
                json!(added),
                "{id}: the count folds every Add"
            );
        }
        let stored: BTreeSet<&str> = seen.keys().map(String::as_str).collect();
        let hot_opens: BTreeSet<String> = (0..HOT).map(|h| format!("open-hot-{h}")).collect();
        let want: BTreeSet<&str> = applied
            .keys()
            .copied()
            .chain(hot_opens.iter().map(String::as_str))
            .collect();
        assert_eq!(stored, want, "one event per command answered applied");
        for (id, (aggregate, version)) in &applied {
            assert_eq!(
                seen.get(*id),
                Some(&((*aggregate).to_owned(), *version)),
                "{id}: stored at the answered version"
            );
        }
        let checked = answered
            .iter()
            .filter(|a| a.kind == Kind::Checked && a.status == 200)
            .count();
        assert_eq!(adds, CLIENTS * WITHIN + checked);
        println!(
            "serve_load: {requests} requests, {} commands answered ({} applied, {} duplicate, {} conflicts), {overloaded} overloaded and sent again; {} aggregates, {} events",
            answered.len(),
            applied.len(),
            answered.iter().filter(|a| a.kind == Kind::Resend).count(),
            answered.iter().filter(|a| a.status == 409).count(),
            listed.len(),
            seen.len()
        );
    });
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
