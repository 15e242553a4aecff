//! [`error_chain`]: what a test reads to check that a cause was kept.

use std::error::Error;

/// `error` and each of its sources, joined by `: `.
///
/// ```
/// let io = std::io::Error::other("disk on fire");
/// assert_eq!(test_doubles::error_chain(&io), "disk on fire");
/// ```
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
