//! Config faults: what a refused config is told (every fault found, each
//! located by its path). A leaf: every compile step appends to one list of
//! these, and nothing here knows how a config is compiled.

use std::fmt;

/// Why a config was refused: every fault found, in document order.
///
/// Displays one fault per line, each as `path: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.lines())]
pub struct ConfigError {
    /// The faults, at least one.
    pub faults: Vec<ConfigFault>,
}

impl ConfigError {
    fn lines(&self) -> String {
        let lines: Vec<String> = self.faults.iter().map(ToString::to_string).collect();
        lines.join("\n")
    }
}

/// One fault in a config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFault {
    /// Where: e.g. `transitions[2].from[0]`, `initialState`, or `""` for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigFault {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `path: message`, or the message alone for the whole document (empty path).
impl fmt::Display for ConfigFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
