//! Where the event store and the configs are: what `--store` and `--config`
//! accept, and the defaults taken from the Lambda's environment (docs/reference.md §4)
//! when they are not given.

use std::fmt;
use std::path::PathBuf;

/// The SQLite file used when nothing else is said.
pub(crate) const DEFAULT_SQLITE: &str = ".cmdctl/events.sqlite3";
/// The config directory used when nothing else is said.
pub(crate) const DEFAULT_CONFIG_DIR: &str = "config";

/// An event store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// The embedded store in a SQLite file.
    Sqlite(PathBuf),
    /// A DynamoDB table (docs/reference.md §3).
    Dynamo(String),
}

impl StoreSpec {
    /// `dynamodb:TABLE`, or else a SQLite path.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text.strip_prefix("dynamodb:") {
            Some("") => Err("`dynamodb:` needs a table name, e.g. `dynamodb:events`".to_owned()),
            Some(table) => Ok(StoreSpec::Dynamo(table.to_owned())),
            None if text.is_empty() => Err("an empty store path".to_owned()),
            None => Ok(StoreSpec::Sqlite(PathBuf::from(text))),
        }
    }

    /// `--store` if given, else `dynamodb:$DYNAMO_TABLE_NAME` if that is set,
    /// else the default SQLite file.
    pub(crate) fn resolve(given: Option<&StoreSpec>, env: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(spec) = given {
            return spec.clone();
        }
        match non_empty(&env, "DYNAMO_TABLE_NAME") {
            Some(table) => StoreSpec::Dynamo(table),
            None => StoreSpec::Sqlite(PathBuf::from(DEFAULT_SQLITE)),
        }
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Sqlite(path) => write!(f, "{}", path.display()),
            StoreSpec::Dynamo(table) => write!(f, "dynamodb:{table}"),
        }
    }
}

/// A config source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigSpec {
    /// A directory of `{aggregateType}.json` files.
    Dir(PathBuf),
    /// Objects `{prefix}{aggregateType}.json` of a bucket.
    S3 {
        bucket: String,
        /// The key prefix, as given (empty, or ending in `/` for a folder).
        prefix: String,
    },
}

impl ConfigSpec {
    /// `s3://BUCKET/PREFIX` (PREFIX may be empty), or else a directory.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let Some(rest) = text.strip_prefix("s3://") else {
            if text.is_empty() {
                return Err("an empty config directory".to_owned());
            }
            return Ok(ConfigSpec::Dir(PathBuf::from(text)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("`s3://` needs a bucket, e.g. `s3://my-configs/prod/`".to_owned());
        }
        Ok(ConfigSpec::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// `--config` if given, else `$CMDCTL_CONFIG_DIR` (the older variable),
    /// else `s3://$S3_BUCKET_NAME/$S3_CONFIG_PREFIX` if the bucket is set,
    /// else `config`.
    pub(crate) fn resolve(
        given: Option<&ConfigSpec>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        if let Some(spec) = given {
            return spec.clone();
        }
        if let Some(dir) = non_empty(&env, "CMDCTL_CONFIG_DIR") {
            return ConfigSpec::Dir(PathBuf::from(dir));
        }
        match non_empty(&env, "S3_BUCKET_NAME") {
            Some(bucket) => ConfigSpec::S3 {
                bucket,
                prefix: env("S3_CONFIG_PREFIX").unwrap_or_default(),
            },
            None => ConfigSpec::Dir(PathBuf::from(DEFAULT_CONFIG_DIR)),
        }
    }
}

impl fmt::Display for ConfigSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSpec::Dir(dir) => write!(f, "{}", dir.display()),
            ConfigSpec::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// The process environment, as the resolvers take it.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn non_empty(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn store_specs_parse() {
        assert_eq!(
            StoreSpec::parse("dynamodb:events"),
            Ok(StoreSpec::Dynamo("events".into()))
        );
        assert_eq!(
            StoreSpec::parse("a/b.sqlite3"),
            Ok(StoreSpec::Sqlite("a/b.sqlite3".into()))
        );
        assert!(StoreSpec::parse("dynamodb:").is_err());
        assert!(StoreSpec::parse("").is_err());
        assert_eq!(StoreSpec::Dynamo("t".into()).to_string(), "dynamodb:t");
    }

    #[test]
    fn the_store_defaults_to_the_lambdas_table_then_to_sqlite() {
        let given = StoreSpec::Sqlite("x.db".into());
        let with_table = env(&[("DYNAMO_TABLE_NAME", "events")]);
        assert_eq!(StoreSpec::resolve(Some(&given), &with_table), given);
        assert_eq!(
            StoreSpec::resolve(None, &with_table),
            StoreSpec::Dynamo("events".into())
        );
        assert_eq!(
            StoreSpec::resolve(None, env(&[("DYNAMO_TABLE_NAME", "")])),
            StoreSpec::Sqlite(DEFAULT_SQLITE.into())
        );
    }

    #[test]
    fn config_specs_parse() {
        assert_eq!(
            ConfigSpec::parse("s3://b/prod/"),
            Ok(ConfigSpec::S3 {
                bucket: "b".into(),
                prefix: "prod/".into()
            })
        );
        assert_eq!(
            ConfigSpec::parse("s3://b"),
            Ok(ConfigSpec::S3 {
                bucket: "b".into(),
                prefix: String::new()
            })
        );
        assert_eq!(
            ConfigSpec::parse("s3://b/"),
            Ok(ConfigSpec::S3 {
                bucket: "b".into(),
                prefix: String::new()
            })
        );
        assert!(ConfigSpec::parse("s3://").is_err());
        assert!(ConfigSpec::parse("s3:///p").is_err());
        assert_eq!(
            ConfigSpec::parse("staging/config"),
            Ok(ConfigSpec::Dir("staging/config".into()))
        );
        assert_eq!(
            ConfigSpec::parse("s3://b/p/").unwrap().to_string(),
            "s3://b/p/"
        );
    }

    #[test]
    fn configs_default_to_the_older_variable_then_the_lambdas_bucket_then_config() {
        let bucket = env(&[("S3_BUCKET_NAME", "cfg"), ("S3_CONFIG_PREFIX", "v1/")]);
        assert_eq!(
            ConfigSpec::resolve(None, &bucket),
            ConfigSpec::S3 {
                bucket: "cfg".into(),
                prefix: "v1/".into()
            }
        );
        let given = ConfigSpec::Dir("mine".into());
        assert_eq!(ConfigSpec::resolve(Some(&given), &bucket), given);
        assert_eq!(
            ConfigSpec::resolve(
                None,
                env(&[("S3_BUCKET_NAME", "cfg"), ("CMDCTL_CONFIG_DIR", "old")])
            ),
            ConfigSpec::Dir("old".into())
        );
        assert_eq!(
            ConfigSpec::resolve(None, env(&[("S3_BUCKET_NAME", "cfg")])),
            ConfigSpec::S3 {
                bucket: "cfg".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            ConfigSpec::resolve(None, env(&[])),
            ConfigSpec::Dir(DEFAULT_CONFIG_DIR.into())
        );
    }
}
