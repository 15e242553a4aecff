//! One-line descriptions of AWS SDK errors, for log lines, failure reasons
//! and the CLI's `error: ...` line. The SDK's `Display` says only "service
//! error", and its `DisplayErrorContext` prints the whole HTTP response;
//! this says `Code: message` when the service answered, and the chain of
//! causes otherwise (no connection, timeout, ...).
//!
//! Shared by every AWS adapter crate; depends only on the smithy types all
//! SDK crates are built on.
//!
//! ```
//! use aws_smithy_runtime_api::client::result::SdkError;
//! use aws_smithy_types::error::ErrorMetadata;
//!
//! let throttled: SdkError<ErrorMetadata, ()> = SdkError::service_error(
//!     ErrorMetadata::builder().code("ThrottlingException").message("Rate exceeded").build(),
//!     (),
//! );
//! assert_eq!(sdk_error::describe(&throttled), "ThrottlingException: Rate exceeded");
//!
//! let timeout: SdkError<ErrorMetadata, ()> = SdkError::timeout_error("no answer in 3 s");
//! assert!(sdk_error::describe(&timeout).contains("no answer in 3 s"));
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::fmt::Debug;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `Code: message` for a service error, the whole chain otherwise.
pub fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: Error + 'static,
    R: Debug,
    SdkError<E, R>: ProvideErrorMetadata,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(error).to_string(),
    }
}
