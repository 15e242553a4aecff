//! The S3 client the configs are read and written with.

use aws_types::SdkConfig;

/// An S3 client on `sdk`'s settings (timeouts included); path-style
/// addressing when an endpoint is set (an emulator on `localhost` needs it).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
