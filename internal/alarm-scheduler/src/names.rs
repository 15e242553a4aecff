//! The schedule of one alarm is named from what identifies it, so that a
//! retried creation finds its own schedule (`ConflictException`) and a
//! clear can delete it without reading anything.

use sha2::{Digest, Sha256};

/// What every alarm schedule's name starts with.
pub const SCHEDULE_PREFIX: &str = "alarm-";

/// The schedule name of alarm `alarm` set by version `version` of the
/// aggregate whose partition key is `pk` (`{type}#{id}`): `alarm-` and the
/// first 40 hex digits of the SHA-256 of `"{pk}\n{alarm}\n{version}"`;
/// 46 characters, within the scheduler's 64 and its character set whatever
/// the id holds.
///
/// ```
/// use alarm_scheduler::schedule_name;
/// let name = schedule_name("order#o-1", "payment-timeout", 3);
/// assert_eq!(name.len(), 46);
/// assert!(name.starts_with("alarm-"));
/// assert_eq!(name, schedule_name("order#o-1", "payment-timeout", 3));
/// assert_ne!(name, schedule_name("order#o-1", "payment-timeout", 4));
/// ```
pub fn schedule_name(pk: &str, alarm: &str, version: u64) -> String {
    let digest = Sha256::digest(format!("{pk}\n{alarm}\n{version}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{SCHEDULE_PREFIX}{}", &hex[..40])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_name_is_pinned() {
        // A stored alarm's schedule is found and deleted by this name.
        assert_eq!(
            schedule_name("order#o-1", "payment-timeout", 3),
            "alarm-951fe8c4a77c1f809d1031b0b20b41f344a97215"
        );
    }

    #[test]
    fn each_part_of_the_identity_changes_the_name() {
        let base = schedule_name("order#o-1", "a", 1);
        for other in [
            schedule_name("order#o-2", "a", 1),
            schedule_name("order#o-1", "b", 1),
            schedule_name("order#o-1", "a", 2),
            // The separator keeps the parts apart.
            schedule_name("order#o-1\na", "", 1),
        ] {
            assert_ne!(base, other);
        }
        assert!(
            base[SCHEDULE_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
