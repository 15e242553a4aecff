//! The limits every host applies: the body size, how long a client may
//! take to send its request, and how many requests are answered at once
//! (beyond that, 503 at once: never an unbounded queue).

use std::time::{Duration, Instant};

/// The largest body `POST /commands` reads: 256 KiB, SQS's message limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The API's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest body read, in bytes; a larger one is 413, read no further.
    pub body_bytes: usize,
    /// How long a client may take to send its headers, or its body once
    /// the headers are in: a slower one gets 408 (body) or is closed (headers).
    pub read_timeout: Duration,
    /// Requests answered at once; one more is 503 `overloaded`.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: MAX_BODY_BYTES,
            read_timeout: Duration::from_secs(10),
            concurrency: 1024,
        }
    }
}

/// When the host must have answered (a Lambda invocation's deadline), as a
/// request extension: a command waited for in the request is then bounded
/// by it as a batch is (the handler starts nothing within its margin, and
/// answers `deadline`, transient, for what it could not finish).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(pub Instant);
