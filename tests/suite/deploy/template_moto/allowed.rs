//! The grants a role of the stack should have, written down one by one and
//! compared with what IAM holds ([`granted`](crate::deploy::grants::granted)).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::deploy::grants::Grant;

#[derive(Debug, Default)]
pub(super) struct Allowed(pub(super) BTreeSet<Grant>);

impl Allowed {
    /// Each action on `resource`, under `condition`.
    pub(super) fn allow(&mut self, actions: &[&str], resource: String, condition: Option<Value>) {
        for a in actions {
            self.0.insert(Grant {
                action: (*a).to_owned(),
                resource: resource.clone(),
                condition: condition.as_ref().map(Value::to_string),
            });
        }
    }

    /// Writing to the function's own log group.
    pub(super) fn own_logs(&mut self, account: &str, function: &str) {
        self.allow(
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            format!("arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/{function}:*"),
            None,
        );
    }

    /// Reading the configs below `prefix`. With `ListBucket`: without it S3
    /// answers a missing config with 403, not 404, and the function could
    /// not tell `unknown_aggregate_type` from an outage. S3 checks it with
    /// the missing key as `s3:prefix`: only keys below the config prefix
    /// may be listed.
    pub(super) fn configs(&mut self, bucket: &str, prefix: &str) {
        self.allow(
            &["s3:GetObject"],
            format!("arn:aws:s3:::{bucket}/{prefix}*"),
            None,
        );
        self.allow(
            &["s3:ListBucket"],
            format!("arn:aws:s3:::{bucket}"),
            Some(json!({"StringLike": {"s3:prefix": format!("{prefix}*")}})),
        );
    }
}
