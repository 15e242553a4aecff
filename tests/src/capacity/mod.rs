//! DynamoDB capacity units by AWS's published on-demand rules, computed from
//! the DynamoDB JSON of requests and responses as they went over the wire
//! (moto's `ConsumedCapacity` figures are fixed numbers, not these):
//!
//! - an item's size is the sum of its attribute names and values
//!   ([`item_bytes`]): a string its UTF-8 bytes, a number about one byte per
//!   two significant digits plus one, a binary its bytes, a boolean or null
//!   one byte, a list or map 3 bytes plus one per element plus the elements
//!   (and, for a map, their names), a set the sum of its elements;
//! - a standard write costs 1 WRU per KB of the item, rounded up; a write in
//!   `TransactWriteItems` 2 per KB;
//! - a read costs 1 RRU per 4 KB when consistent (half when not), rounded
//!   up, and a read that finds nothing still costs the minimum; a `Query`
//!   sums the items it returns before rounding; `BatchGetItem` rounds per
//!   item; `TransactGetItems` costs twice a consistent read;
//! - every index of the table (from `DescribeTable`, [`TableShape`]) whose
//!   key attributes are all present in a written item takes one index write
//!   of its entry's size: the index keys, the table's keys, the projected
//!   attributes and 100 bytes of overhead. In a transaction it is counted
//!   doubled, as `docs/cost.md` does (AWS does not say): an upper bound.
//!
//! Sizes that are not on the wire are bounded from what is: an `UpdateItem`
//! counts its key and the values it sets, a `DeleteItem` or a
//! `ConditionCheck` the minimum. A `Query` with a projection counts what came
//! back (AWS counts the whole items read).

use serde_json::{Map, Value};

/// One KB, the write unit's step.
const WRITE_STEP: u64 = 1024;
/// Four KB, the read unit's step.
const READ_STEP: u64 = 4096;
/// What AWS adds to each index entry.
const INDEX_ENTRY_OVERHEAD: u64 = 100;

/// What an index keeps besides its keys and the table's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute of the item.
    All,
    /// Only the keys.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
}

/// A secondary index: its key attributes and its projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Hash key, then range key if any.
    pub keys: Vec<String>,
    /// What it projects.
    pub projection: Projection,
}

/// What the unit arithmetic needs of a table: its key attributes and its
/// secondary indexes (global and local alike).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableShape {
    /// The table's key attributes.
    pub keys: Vec<String>,
    /// Its secondary indexes.
    pub indexes: Vec<Index>,
}

impl TableShape {
    /// From the `Table` object of a `DescribeTable` answer (DynamoDB JSON).
    pub fn from_description(table: &Value) -> TableShape {
        let keys = |schema: &Value| -> Vec<String> {
            let mut keys: Vec<(bool, String)> = schema
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|k| {
                    let name = k["AttributeName"].as_str()?.to_owned();
                    Some((k["KeyType"] == "RANGE", name))
                })
                .collect();
            keys.sort();
            keys.into_iter().map(|(_, name)| name).collect()
        };
        let indexes = ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"]
            .iter()
            .flat_map(|kind| table[*kind].as_array().into_iter().flatten())
            .map(|index| Index {
                name: index["IndexName"].as_str().unwrap_or_default().to_owned(),
                keys: keys(&index["KeySchema"]),
                projection: match index["Projection"]["ProjectionType"].as_str() {
                    Some("KEYS_ONLY") => Projection::KeysOnly,
                    Some("INCLUDE") => Projection::Include(
                        index["Projection"]["NonKeyAttributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|a| a.as_str().map(str::to_owned))
                            .collect(),
                    ),
                    _ => Projection::All,
                },
            })
            .collect();
        TableShape {
            keys: keys(&table["KeySchema"]),
            indexes,
        }
    }

    /// The sizes of the index entries a write of `item` makes: one per index
    /// whose keys the item has.
    pub fn index_entries(&self, item: &Map<String, Value>) -> Vec<(String, u64)> {
        self.indexes
            .iter()
            .filter(|index| index.keys.iter().all(|k| item.contains_key(k)))
            .map(|index| {
                let size = match &index.projection {
                    Projection::All => item_bytes(item),
                    Projection::KeysOnly | Projection::Include(_) => {
                        let extra: &[String] = match &index.projection {
                            Projection::Include(names) => names,
                            _ => &[],
                        };
                        let mut names: Vec<&String> =
                            index.keys.iter().chain(&self.keys).chain(extra).collect();
                        names.sort();
                        names.dedup();
                        names
                            .into_iter()
                            .filter_map(|n| item.get(n).map(|v| n.len() as u64 + value_bytes(v)))
                            .sum()
                    }
                };
                (index.name.clone(), size + INDEX_ENTRY_OVERHEAD)
            })
            .collect()
    }
}

/// An item's size by DynamoDB's rule: names plus values.
pub fn item_bytes(item: &Map<String, Value>) -> u64 {
    item.iter()
        .map(|(name, value)| name.len() as u64 + value_bytes(value))
        .sum()
}

/// The size of one attribute value in DynamoDB JSON (`{"S": "..."}`...).
pub fn value_bytes(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0;
    };
    let strings = || {
        inner
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, |s| s.len() as u64),
        "N" => inner.as_str().map_or(0, number_bytes),
        "B" => inner.as_str().map_or(0, base64_len),
        "BOOL" | "NULL" => 1,
        "SS" => strings().map(|s| s.len() as u64).sum(),
        "NS" => strings().map(number_bytes).sum(),
        "BS" => strings().map(base64_len).sum(),
        "L" => {
            3 + inner
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| 1 + value_bytes(v))
                .sum::<u64>()
        }
        "M" => {
            3 + inner
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| 1 + k.len() as u64 + value_bytes(v))
                .sum::<u64>()
        }
        _ => 0,
    }
}

/// A number's size: one byte per two significant digits (leading and
/// trailing zeros trimmed), plus one.
pub fn number_bytes(number: &str) -> u64 {
    let mantissa = number
        .split(['e', 'E'])
        .next()
        .unwrap_or_default()
        .replace(['-', '+', '.'], "");
    let digits = mantissa.trim_start_matches('0').trim_end_matches('0').len() as u64;
    digits.div_ceil(2) + 1
}

/// The decoded length of a base64 string.
fn base64_len(encoded: &str) -> u64 {
    let padding = encoded.bytes().rev().take_while(|&b| b == b'=').count() as u64;
    (encoded.len() as u64 / 4 * 3).saturating_sub(padding)
}

/// Write units of one standard write of `bytes`.
pub fn write_units(bytes: u64) -> u64 {
    bytes.div_ceil(WRITE_STEP).max(1)
}

/// Read units of one read of `bytes` (0: a read that found nothing).
pub fn read_units(bytes: u64, consistent: bool) -> f64 {
    let steps = bytes.div_ceil(READ_STEP).max(1) as f64;
    if consistent { steps } else { steps / 2.0 }
}

/// Units of one request, or of many summed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Units {
    /// Write units of the table's items.
    pub table_wru: f64,
    /// Write units of index entries.
    pub index_wru: f64,
    /// Read units.
    pub rru: f64,
}

impl Units {
    /// Table and index writes together.
    pub fn wru(&self) -> f64 {
        self.table_wru + self.index_wru
    }
}

impl std::ops::AddAssign for Units {
    fn add_assign(&mut self, other: Units) {
        self.table_wru += other.table_wru;
        self.index_wru += other.index_wru;
        self.rru += other.rru;
    }
}

/// The units of one request (`operation` as in `x-amz-target` after the
/// dot, e.g. `TransactWriteItems`), from its body and its answer's.
/// An answer that is an error counts nothing read; its writes are counted
/// as if they landed (AWS charges a failed conditional write too).
pub fn request_units(
    shape: &TableShape,
    operation: &str,
    request: &Value,
    answer: &Value,
) -> Units {
    let mut units = Units::default();
    let consistent = |r: &Value| r["ConsistentRead"].as_bool().unwrap_or(false);
    let write = |item: &Map<String, Value>, factor: f64, units: &mut Units| {
        units.table_wru += factor * write_units(item_bytes(item)) as f64;
        for (_, size) in shape.index_entries(item) {
            units.index_wru += factor * write_units(size) as f64;
        }
    };
    match operation {
        "PutItem" => {
            if let Some(item) = request["Item"].as_object() {
                write(item, 1.0, &mut units);
            }
        }
        "UpdateItem" => units.table_wru += write_units(update_bytes(request)) as f64,
        "DeleteItem" => units.table_wru += 1.0,
        "BatchWriteItem" => {
            for writes in request["RequestItems"].as_object().into_iter().flatten() {
                for w in writes.1.as_array().into_iter().flatten() {
                    match w["PutRequest"]["Item"].as_object() {
                        Some(item) => write(item, 1.0, &mut units),
                        None => units.table_wru += 1.0,
                    }
                }
            }
        }
        "TransactWriteItems" => {
            for action in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(item) = action["Put"]["Item"].as_object() {
                    write(item, 2.0, &mut units);
                } else if action.get("Update").is_some() {
                    units.table_wru += 2.0 * write_units(update_bytes(&action["Update"])) as f64;
                } else if action.get("Delete").is_some() {
                    units.table_wru += 2.0;
                } else if action.get("ConditionCheck").is_some() {
                    units.rru += 2.0;
                }
            }
        }
        "GetItem" => {
            let found = answer["Item"].as_object().map_or(0, item_bytes);
            units.rru += read_units(found, consistent(request));
        }
        "BatchGetItem" => {
            for (table, asked) in request["RequestItems"].as_object().into_iter().flatten() {
                let keys = asked["Keys"].as_array().map_or(0, Vec::len);
                let found = answer["Responses"][table]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let unprocessed = answer["UnprocessedKeys"][table]["Keys"]
                    .as_array()
                    .map_or(0, Vec::len);
                for item in &found {
                    let bytes = item.as_object().map_or(0, item_bytes);
                    units.rru += read_units(bytes, consistent(asked));
                }
                let missed = keys.saturating_sub(found.len() + unprocessed);
                units.rru += missed as f64 * read_units(0, consistent(asked));
            }
        }
        "TransactGetItems" => {
            for item in answer["Responses"].as_array().into_iter().flatten() {
                let bytes = item["Item"].as_object().map_or(0, item_bytes);
                units.rru += 2.0 * read_units(bytes, true);
            }
        }
        "Query" | "Scan" => {
            let bytes: u64 = answer["Items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .map(item_bytes)
                .sum();
            if answer.get("Items").is_some() {
                units.rru += read_units(bytes, consistent(request));
            }
        }
        _ => {}
    }
    units
}

/// What the wire says of an update's size: its key and the values it sets.
fn update_bytes(update: &Value) -> u64 {
    let key = update["Key"].as_object().map_or(0, item_bytes);
    let values: u64 = update["ExpressionAttributeValues"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, v)| value_bytes(v))
        .sum();
    key + values
}

#[cfg(test)]
mod tests;
