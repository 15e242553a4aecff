//! A long-running local host's loop (`cmdctl serve`): rounds run whenever a
//! request wrote an event, and on a tick for the alarms that come due while
//! no request arrives.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;

use crate::error::RuntimeError;
use crate::report::Report;
use crate::runtime::{CHECKPOINT, LocalRuntime};

/// How often [`follow`] fires due alarms when nothing wakes it.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);

/// Runs [`LocalRuntime::run_until_quiet`] from [`CHECKPOINT`] each time
/// `wake` is notified (a burst of notifications is one run) and every
/// `tick`, handing each run's result to `on_run`, until `stop` completes.
/// A run in progress when `stop` completes finishes first: nothing it took
/// on is dropped.
pub async fn follow(
    runtime: &LocalRuntime,
    wake: &Notify,
    tick: Duration,
    stop: impl Future<Output = ()>,
    mut on_run: impl FnMut(Result<Report, RuntimeError>),
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        let report = runtime.run_until_quiet(CHECKPOINT).await;
        on_run(report);
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(tick) => {}
            () = &mut stop => return,
        }
    }
}
