//! The table's DynamoDB stream, read as Lambda's event source mapping reads
//! it (DescribeStream, GetShardIterator, GetRecords), and its records
//! handed over as the JSON of a Lambda DynamoDB stream event (the field
//! names of `aws_lambda_events`' `dynamodb` event). moto keeps one shard per
//! table. Never an event source mapping: moto would pull the records
//! itself.

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{Map, Value, json};

use crate::requests::RequestCounter;

/// A reader of one table's stream, from its start (TRIM_HORIZON); every
/// [`StreamReader::read`] returns the records written since the last one.
#[derive(Debug)]
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    iterator: Option<String>,
    /// The stream requests this reader sent.
    pub requests: RequestCounter,
}

impl StreamReader {
    /// Opens the stream of `table` at its oldest record.
    pub async fn open(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let described = dynamo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("DescribeTable");
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .expect("the table has a stream")
            .to_owned();
        let requests = RequestCounter::default();
        let client = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(sdk)
                .interceptor(requests.clone())
                .build(),
        );
        let stream = client
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
            .expect("DescribeStream");
        let shard = stream
            .stream_description()
            .and_then(|d| d.shards().first())
            .and_then(|s| s.shard_id())
            .expect("a shard")
            .to_owned();
        let iterator = client
            .get_shard_iterator()
            .stream_arn(&stream_arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("GetShardIterator")
            .shard_iterator()
            .map(str::to_owned);
        requests.reset();
        Self {
            client,
            stream_arn,
            iterator,
            requests,
        }
    }

    /// The records written since the last read, as Lambda's event records.
    pub async fn read(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(iterator) = self.iterator.clone() {
            let got = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .expect("GetRecords");
            self.iterator = got.next_shard_iterator().map(str::to_owned);
            if got.records().is_empty() {
                break;
            }
            out.extend(got.records().iter().map(|r| self.lambda_record(r)));
        }
        out
    }

    /// The records as one Lambda invocation's event.
    pub fn event(records: &[Value]) -> Value {
        json!({ "Records": records })
    }

    fn lambda_record(&self, record: &Record) -> Value {
        let change = record.dynamodb().expect("a stream record");
        let image = |item: Option<&std::collections::HashMap<String, AttributeValue>>| {
            item.map(|i| Value::Object(item_json(i)))
                .unwrap_or(Value::Null)
        };
        json!({
            "eventID": record.event_id(),
            "eventName": record.event_name().map(|n| n.as_str()),
            "eventVersion": record.event_version(),
            "eventSource": record.event_source(),
            "awsRegion": record.aws_region().unwrap_or("us-east-1"),
            "eventSourceARN": self.stream_arn,
            "dynamodb": {
                "ApproximateCreationDateTime": change.approximate_creation_date_time().map(|t| t.secs()),
                "Keys": image(change.keys()),
                "NewImage": image(change.new_image()),
                "SequenceNumber": change.sequence_number(),
                "SizeBytes": change.size_bytes().unwrap_or(0),
                "StreamViewType": change.stream_view_type().map(|v| v.as_str()),
            }
        })
    }
}

/// An item in DynamoDB's JSON (`{"S": ...}`, `{"N": ...}`, ...).
fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Map<String, Value> {
    item.iter()
        .map(|(k, v)| (k.clone(), value_json(v)))
        .collect()
}

fn value_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(n) => json!({ "NS": n }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(value_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => json!({ "M": item_json(m) }),
        other => panic!("an attribute type the event store never writes: {other:?}"),
    }
}
