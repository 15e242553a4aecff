//! The local publisher: a [`Publisher`] that writes each publication as one
//! JSON line (to a file or stdout), and a [`CommandSink`] that keeps the
//! reactions for the caller to take (a replay that drops them).

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use event_processor::{CommandSink, DeliveryError, DerivedCommand, Publication, Publisher};

/// Writes each publication's detail as one line (to a file or stdout).
#[derive(Debug)]
pub struct JsonLines<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl<W: Write + Send> Publisher for JsonLines<W> {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let results: Vec<Result<(), DeliveryError>> = items
            .iter()
            .map(|item| {
                writeln!(out, "{}", item.detail).map_err(|err| {
                    DeliveryError::transient(format!("write failed: {err}")).with_source(err)
                })
            })
            .collect();
        match out.flush() {
            Ok(()) => results,
            Err(err) => {
                let error =
                    DeliveryError::transient(format!("flush failed: {err}")).with_source(err);
                vec![Err(error); items.len()]
            }
        }
    }
}

/// Keeps the commands sent, for the caller to [`take`](Collect::take) and run.
#[derive(Debug, Default)]
pub struct Collect {
    commands: Mutex<Vec<DerivedCommand>>,
}

impl Collect {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The commands sent since the last take, in the order sent.
    pub fn take(&self) -> Vec<DerivedCommand> {
        std::mem::take(&mut *self.commands.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait]
impl CommandSink for Collect {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(commands);
        vec![Ok(()); commands.len()]
    }
}
