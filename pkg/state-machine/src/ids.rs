//! Every id the engine and its adapters derive, and the one place that
//! hashes one (SHA-256, lowercase hex). Each scheme is an idempotency key of
//! stored or sent data, so none may change: a test pins each to a value.
//!
//! | Id | Scheme | Used by |
//! |---|---|---|
//! | event id | `{aggregateType}#{aggregateId}@{version}` ([`event_id`]) | logs, failure records, publications, `causationId` |
//! | reaction command id | `{event_id}/{index}`, or `{event_id}/v{configVersion}/{index}` when another config version builds it; over 200 bytes `sha256hex(id)` + `@r` ([`reaction_command_id`]) | reactions (`then`) |
//! | alarm command id | `{event_id of the setting event}/alarm/{name}`; over 200 bytes `sha256hex(id)` + `@a` | a due alarm's command ([`alarm_command`](crate::alarm_command)) |
//! | command fingerprint | `sha256hex` of the JSON text of `[aggregateType, aggregateId, command, payload]`, the payload's keys sorted and its integral floats within ±2^53 as integers ([`fingerprint`]) | the idempotency record of an applied command |
//! | FIFO message group | the partition key when SQS takes it, else `h-` + `sha256hex(pk)` ([`hashed_message_group`]) | FIFO command messages (`sqs-commands`' `fifo_group`) |
//! | FIFO deduplication id | `sha256hex(commandId)` ([`deduplication_id`]) | FIFO command messages |
//! | alarm schedule name | `alarm-` + the first 40 hex digits of `sha256hex("{pk}\n{alarm}\n{version}")` ([`schedule_name`]) | EventBridge Scheduler schedules |
//! | listing shard | the first byte of `sha256(aggregateId)` modulo the shard count ([`list_shard`]) | the DynamoDB listing index |
//! | bound command id | `{source}/{id}` of the EventBridge event; over 200 bytes `sha256hex(id)` + `@b` ([`binding_command_id`]) | an outside event's command (`bindings`) |
//! | binding rule id | `Binding` + the first 16 hex digits of `sha256hex("{source}\n{detailType}")` ([`binding_rule_id`]) | the EventBridge rule of a binding (its CloudFormation logical id and rule name suffix) |
//! | file line command id | `file-` + the first 32 hex digits of `sha256hex("cmdctl send --file\n{occurrence}\n{line}")` ([`file_line_command_id`]) | `cmdctl send --file`, for a line without `commandId` |

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

/// The id of a stored event in logs, failure records and publications:
/// `{aggregateType}#{aggregateId}@{version}`.
pub fn event_id(aggregate_type: &str, aggregate_id: &str, version: u64) -> String {
    format!("{aggregate_type}#{aggregate_id}@{version}")
}

/// A reaction's command id: `{event_id}/{index}` when the config building
/// it is the one that recorded the event (`built_by == recorded_by`), else
/// `{event_id}/v{built_by}/{index}`, so that one id never has two meanings
/// when a `then` changed between a send and its retry; over
/// [`MAX_READABLE_ID`] bytes, its SHA-256 in hex followed by `@r`.
///
/// ```
/// use state_machine::ids::reaction_command_id;
/// assert_eq!(reaction_command_id("order#o-1@1", 0, 3, 3), "order#o-1@1/0");
/// assert_eq!(reaction_command_id("order#o-1@1", 0, 3, 4), "order#o-1@1/v4/0");
/// let long = format!("order#{}@1", "x".repeat(300));
/// assert_ne!(reaction_command_id(&long, 0, 3, 3), reaction_command_id(&long, 0, 3, 4));
/// assert!(reaction_command_id(&long, 0, 3, 4).ends_with("@r"));
/// ```
pub fn reaction_command_id(
    event_id: &str,
    index: usize,
    recorded_by: u64,
    built_by: u64,
) -> String {
    let id = if recorded_by == built_by {
        format!("{event_id}/{index}")
    } else {
        format!("{event_id}/v{built_by}/{index}")
    };
    bounded_command_id(id, "@r")
}

/// The command id of alarm `name` set by the event `setting_event`
/// (`{event_id}/alarm/{name}`), so every copy of one firing is one command;
/// over [`MAX_READABLE_ID`] bytes, its SHA-256 in hex followed by `@a`.
pub(crate) fn alarm_command_id(setting_event: &str, name: &str) -> String {
    bounded_command_id(format!("{setting_event}/alarm/{name}"), "@a")
}

/// The command id of the outside event `id` from `source` (EventBridge's
/// fields): `{source}/{id}`, so every delivery of one event is one command;
/// over [`MAX_READABLE_ID`] bytes, its SHA-256 in hex followed by `@b`.
///
/// ```
/// use state_machine::ids::binding_command_id;
/// assert_eq!(binding_command_id("payments.provider", "e-1"), "payments.provider/e-1");
/// assert!(binding_command_id("payments.provider", &"x".repeat(300)).ends_with("@b"));
/// ```
pub fn binding_command_id(source: &str, id: &str) -> String {
    bounded_command_id(format!("{source}/{id}"), "@b")
}

/// The id of the EventBridge rule of the binding of `source` and
/// `detail_type`: `Binding` and 16 hex digits of the SHA-256 of
/// `"{source}\n{detail_type}"`; 23 ASCII letters and digits, a valid
/// CloudFormation logical id and rule name, the same whatever order the
/// configs list their bindings in (a set binds each pair once).
///
/// ```
/// use state_machine::ids::binding_rule_id;
/// let id = binding_rule_id("payments.provider", "PaymentSucceeded");
/// assert_eq!(id.len(), 23);
/// assert!(id.starts_with("Binding") && id.chars().all(|c| c.is_ascii_alphanumeric()));
/// ```
pub fn binding_rule_id(source: &str, detail_type: &str) -> String {
    let digest = sha256_hex(format!("{source}\n{detail_type}").as_bytes());
    format!("Binding{}", &digest[..16])
}

/// `id` when it is at most [`MAX_READABLE_ID`] bytes, else its SHA-256 in
/// hex followed by `suffix`.
fn bounded_command_id(id: String, suffix: &str) -> String {
    if id.len() <= MAX_READABLE_ID {
        return id;
    }
    format!("{}{suffix}", sha256_hex(id.as_bytes()))
}

/// A readable command id is at most this long; longer ones are hashed, so
/// every id stays well under the command envelope's limit.
pub const MAX_READABLE_ID: usize = 200;

/// A stable hash of what a command asks for (aggregate, command, payload),
/// independent of how the payload was written: key order, and a number
/// written as an integer or as an integral float (`1`, `1.0`, `1e0` and `-0.0`
/// against `0` are the same), so that a resend written differently is a
/// duplicate, not a reuse of its id. 64 hex digits.
///
/// Records stored before numbers were canonicalized carry the older hash,
/// which differs only for payloads holding an integral float; no deployment
/// predates the change.
pub fn fingerprint(
    aggregate_type: &str,
    aggregate_id: &str,
    command: &str,
    payload: &Map<String, Value>,
) -> String {
    let doc = (
        aggregate_type,
        aggregate_id,
        command,
        Value::Object(canonical_map(payload)),
    );
    let mut hasher = Sha256::new();
    // Writing into a hasher cannot fail, and every key of a JSON map is a string.
    let _ = serde_json::to_writer(&mut hasher, &doc);
    hex(&hasher.finalize())
}

/// [`canonical`] of an object.
fn canonical_map(map: &Map<String, Value>) -> Map<String, Value> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|k| (k.clone(), canonical(&map[k])))
        .collect()
}

/// Rebuilds a value with every object's keys inserted in sorted order and
/// every integral float within ±2^53 as an integer, so its text is the same
/// however the producer wrote it.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(canonical_map(map)),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Number(n) => Value::Number(canonical_number(n)),
        other => other.clone(),
    }
}

/// An integral float within ±2^53 (where a double holds every integer
/// exactly) as that integer; any other number as it is.
fn canonical_number(n: &Number) -> Number {
    const EXACT: f64 = (1u64 << 53) as f64;
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() <= EXACT => {
            // In range, so the cast is exact; `-0.0` becomes 0.
            Number::from(f as i64)
        }
        _ => n.clone(),
    }
}

/// The FIFO message group of a partition key `pk` that SQS does not take as
/// it is: `h-` and the SHA-256 of `pk` in hex (66 characters, no `#`, so it
/// never equals a readable group).
pub fn hashed_message_group(pk: &str) -> String {
    format!("h-{}", sha256_hex(pk.as_bytes()))
}

/// A FIFO deduplication id for a command id: its SHA-256 in hex (64
/// characters, within SQS's 128 and its character set whatever the id
/// holds).
///
/// ```
/// let id = state_machine::ids::deduplication_id("order#o-1@1/0");
/// assert_eq!(id.len(), 64);
/// assert_eq!(id, state_machine::ids::deduplication_id("order#o-1@1/0"));
/// ```
pub fn deduplication_id(command_id: &str) -> String {
    sha256_hex(command_id.as_bytes())
}

/// What every alarm schedule's name starts with.
pub const SCHEDULE_PREFIX: &str = "alarm-";

/// The schedule name of alarm `alarm` set by version `version` of the
/// aggregate whose partition key is `pk` (`{type}#{id}`): `alarm-` and the
/// first 40 hex digits of the SHA-256 of `"{pk}\n{alarm}\n{version}"`;
/// 46 characters, within the scheduler's 64 and its character set whatever
/// the id holds. A retried creation finds its own schedule
/// (`ConflictException`) and a clear deletes it without reading anything.
///
/// ```
/// use state_machine::ids::schedule_name;
/// let name = schedule_name("order#o-1", "payment-timeout", 3);
/// assert_eq!(name.len(), 46);
/// assert!(name.starts_with("alarm-"));
/// assert_eq!(name, schedule_name("order#o-1", "payment-timeout", 3));
/// assert_ne!(name, schedule_name("order#o-1", "payment-timeout", 4));
/// ```
pub fn schedule_name(pk: &str, alarm: &str, version: u64) -> String {
    let digest = sha256_hex(format!("{pk}\n{alarm}\n{version}").as_bytes());
    format!("{SCHEDULE_PREFIX}{}", &digest[..40])
}

/// The listing shard of an aggregate id among `shards` (at least 1): the
/// first byte of its SHA-256, modulo `shards`.
pub fn list_shard(aggregate_id: &str, shards: u8) -> u8 {
    Sha256::digest(aggregate_id.as_bytes())[0] % shards.max(1)
}

/// The command id of a line of a command file that has none: `file-` and
/// 32 hex digits of the SHA-256 of the line's text and of which occurrence
/// of that text in the file it is (1 for the first).
pub fn file_line_command_id(line: &str, occurrence: usize) -> String {
    let mut digest = Sha256::new();
    digest.update(b"cmdctl send --file\n");
    digest.update(occurrence.to_string().as_bytes());
    digest.update(b"\n");
    digest.update(line.as_bytes());
    format!("file-{}", hex(&digest.finalize()[..16]))
}

/// The SHA-256 of `bytes` in lowercase hex (64 digits).
fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// `bytes` in lowercase hex, two digits each.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    //! Each scheme pinned to a value computed before it moved here (the
    //! adapters' own tests pin the same values through their callers).
    use super::*;
    use serde_json::json;

    #[test]
    fn every_scheme_is_pinned() {
        let long = format!("order#{}@1", "x".repeat(300));
        assert_eq!(event_id("order", "o-1", 3), "order#o-1@3");
        assert_eq!(
            reaction_command_id(&long, 0, 3, 3),
            "2841a0f13dec2b6c50c73420894b14fc77fc56e00d7c6251c82404259379ab4a@r"
        );
        assert_eq!(
            alarm_command_id(&format!("order#{}@3", "x".repeat(300)), "a"),
            "46c54d1050eea79fec6f9887741b619ef1afa57a9dfa5763ddced3a44b0c58da@a"
        );
        assert_eq!(
            alarm_command_id("order#o-1@3", "payment-timeout"),
            "order#o-1@3/alarm/payment-timeout"
        );
        let payload = json!({"z": {"y": "é", "x": null}, "b": [1, 2.0], "a": 1});
        assert_eq!(
            fingerprint("order", "o-1", "Create", payload.as_object().unwrap()),
            "a0fbb2754d07ed4273753c58e5c5e1ec87ab32ead4b54231a4c3f4f3e1b70e89"
        );
        assert_eq!(
            hashed_message_group("order#o 1"),
            "h-7e49008d55fa64a0aa4055e4490ad95d4830b3c26c0de53577fb86381863d435"
        );
        assert_eq!(
            deduplication_id("order#o-1@1/0"),
            "039a14519a1c47b434ece7adbd9eb5ee267d4a7f56012654a258e7c1b240bfd2"
        );
        assert_eq!(
            schedule_name("order#o-1", "payment-timeout", 3),
            "alarm-951fe8c4a77c1f809d1031b0b20b41f344a97215"
        );
        assert_eq!(
            binding_command_id("payments.provider", "e-1"),
            "payments.provider/e-1"
        );
        assert_eq!(
            binding_command_id("payments.provider", &"x".repeat(300)),
            "920885312f0b2c274dfa7a9fd8a38594b1c2bb288b91101e4b055525a9fcefb0@b"
        );
        assert_eq!(
            binding_rule_id("payments.provider", "PaymentSucceeded"),
            "Bindingbe6aa118c6697554"
        );
        assert_eq!((list_shard("o-1", 32), list_shard("sku-1", 32)), (28, 23));
        assert_eq!(
            file_line_command_id(r#"{"aggregateType":"order"}"#, 1),
            "file-9d120e8197e835f9df7d77b57473093b"
        );
    }

    #[test]
    fn each_part_of_a_schedule_identity_changes_the_name() {
        let base = schedule_name("order#o-1", "a", 1);
        for other in [
            schedule_name("order#o-2", "a", 1),
            schedule_name("order#o-1", "b", 1),
            schedule_name("order#o-1", "a", 2),
            // The separator keeps the parts apart.
            schedule_name("order#o-1\na", "", 1),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(base.len(), 46);
        assert!(
            base[SCHEDULE_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }
}
