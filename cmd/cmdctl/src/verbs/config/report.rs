//! What `config validate`, `config upload` and `config diff` print of the
//! configs they checked and uploaded.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::{Verdict, all_valid, verdict_json};
use crate::output;

/// Each config's verdict: `{valid, files: [...]}` (with `uploaded: []`
/// when it refused an upload); in text, `ok  PATH (...)` or `invalid PATH`
/// and its faults.
pub(crate) struct Checked<'a> {
    verdicts: &'a [(String, Verdict)],
    upload_refused: bool,
}

impl<'a> Checked<'a> {
    /// The verdicts, of a check (not an upload).
    pub(crate) fn of(verdicts: &'a [(String, Verdict)]) -> Self {
        Self {
            verdicts,
            upload_refused: false,
        }
    }

    /// The verdicts of an upload refused for them.
    pub(crate) fn upload_refused(verdicts: &'a [(String, Verdict)]) -> Self {
        Self {
            verdicts,
            upload_refused: true,
        }
    }
}

impl Serialize for Checked<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let files: Vec<Value> = self
            .verdicts
            .iter()
            .map(|(name, v)| verdict_json(name, v))
            .collect();
        let mut doc = json!({ "valid": all_valid(self.verdicts), "files": files });
        if self.upload_refused {
            doc["uploaded"] = json!([]);
        }
        doc.serialize(s)
    }
}

impl fmt::Display for Checked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, verdict) in self.verdicts {
            match verdict {
                Verdict::Valid {
                    aggregate_type,
                    version,
                    states,
                    transitions,
                    ..
                } => writeln!(
                    f,
                    "ok  {name} ({aggregate_type} v{version}, {states} states, {transitions} transitions)"
                )?,
                Verdict::Invalid(faults) => {
                    writeln!(f, "invalid {name}")?;
                    for fault in faults {
                        for (i, line) in fault.to_string().lines().enumerate() {
                            let indent = if i == 0 { "    " } else { "      " };
                            writeln!(f, "{indent}{line}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl output::VerbReport for Checked<'_> {}

/// The configs uploaded: (path, what S3 holds now).
pub(super) struct UploadReport {
    pub(super) bucket: String,
    pub(super) prefix: String,
    pub(super) uploaded: Vec<(String, config_s3::Uploaded)>,
}

/// `{valid: true, bucket, prefix, uploaded: [...]}`, keys in alphabetical
/// order.
impl Serialize for UploadReport {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bucket = &self.bucket;
        let files: Vec<Value> = self
            .uploaded
            .iter()
            .map(|(path, up)| {
                json!({
                    "path": path,
                    "key": up.key,
                    "uri": format!("s3://{bucket}/{}", up.key),
                    "etag": up.etag,
                    "aggregateType": up.aggregate_type,
                    "version": up.version,
                })
            })
            .collect();
        json!({ "valid": true, "bucket": bucket, "prefix": self.prefix, "uploaded": files })
            .serialize(s)
    }
}

/// One row a file: `uploaded PATH  s3://...  etag ...  (type vN)`.
impl fmt::Display for UploadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bucket = &self.bucket;
        let rows: Vec<Vec<String>> = self
            .uploaded
            .iter()
            .map(|(path, up)| {
                vec![
                    format!("uploaded {path}"),
                    format!("s3://{bucket}/{}", up.key),
                    format!("etag {}", up.etag.as_deref().unwrap_or("-")),
                    format!("({} v{})", up.aggregate_type, up.version),
                ]
            })
            .collect();
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for UploadReport {}
