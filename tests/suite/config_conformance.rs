//! The ConfigSource conformance suite, on the directory source (a temporary
//! directory) and on the S3 source (moto, with a zero TTL so every call asks
//! S3).

use std::time::Duration;

use async_trait::async_trait;
use config_dir::DirConfigSource;
use config_s3::S3ConfigSource;
use testkit::aws::{AwsStack, PREFIX};
use testkit::config_conformance::ConfigFixture;

/// A temporary directory and the source over it.
struct DirFixture {
    dir: tempfile::TempDir,
    source: DirConfigSource,
}

impl DirFixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = DirConfigSource::new(dir.path());
        Self { dir, source }
    }
}

#[async_trait]
impl ConfigFixture for DirFixture {
    type Source = DirConfigSource;

    fn source(&self) -> &DirConfigSource {
        &self.source
    }

    async fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join(format!("{name}.json")), bytes).expect("write config");
    }

    async fn delete(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join(format!("{name}.json"))).expect("delete config");
    }
}

/// A moto stack's bucket and the S3 source over it, asking S3 on every call.
struct S3Fixture {
    stack: AwsStack,
    source: S3ConfigSource,
}

impl S3Fixture {
    async fn new() -> Self {
        let stack = AwsStack::new().await;
        let source = stack.configs().with_ttl(Duration::ZERO);
        Self { stack, source }
    }
}

#[async_trait]
impl ConfigFixture for S3Fixture {
    type Source = S3ConfigSource;

    fn source(&self) -> &S3ConfigSource {
        &self.source
    }

    async fn put(&self, name: &str, bytes: &[u8]) {
        self.stack
            .s3()
            .put_object()
            .bucket(&self.stack.bucket)
            .key(config_s3::object_key(PREFIX, name))
            .body(bytes.to_vec().into())
            .send()
            .await
            .expect("PutObject");
    }

    async fn delete(&self, name: &str) {
        self.stack
            .s3()
            .delete_object()
            .bucket(&self.stack.bucket)
            .key(config_s3::object_key(PREFIX, name))
            .send()
            .await
            .expect("DeleteObject");
    }
}

testkit::config_source_conformance!(directory, async { DirFixture::new() });

testkit::config_source_conformance!(s3, S3Fixture::new());
