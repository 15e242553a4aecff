//! `cmdctl serve`: the HTTP API (`http-api`) on a socket, over the chosen
//! store and configs; on the embedded store, the local runtime follows the
//! writes (`local_runtime::follow`). This module wires them and reports.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use http_api::{HttpApi, Limits};
use local_runtime::follow::DEFAULT_TICK;
use tokio::sync::Notify;

use crate::Exit;
use crate::cli::ServeArgs;
use crate::context::Context;
use crate::output;
use crate::verbs::react::{notice_line, runtime};

/// Serves until a signal; exit 0 then.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ServeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let clock = crate::clock::shared(None);
    let handler = Arc::new(ctx.handler(clock.clone())?);
    let local = ctx
        .local_store()?
        .map(|_| {
            runtime(
                ctx,
                clock,
                args.react.events.as_deref(),
                args.react.max_rounds,
            )
        })
        .transpose()?;
    let wake = Arc::new(Notify::new());
    let limits = Limits {
        concurrency: usize::try_from(args.max_concurrent).unwrap_or(usize::MAX),
        read_timeout: Duration::from_secs(args.read_timeout),
        ..Limits::default()
    };
    let router = HttpApi::new(handler)
        .notify_applied(wake.clone())
        .with_limits(limits)
        .router();
    // One thread: the store is one SQLite connection under one lock, so a
    // second worker mostly waits for it, and the CPU per command went up
    // (BENCHMARKS.md, "The HTTP API", tried and not kept).
    let serving_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let listener = serving_runtime
        .block_on(tokio::net::TcpListener::bind(args.listen))
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("the bound address")?;
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    serving_runtime
        .block_on(async {
            let (stop, stopped) = tokio::sync::watch::channel(());
            let serving = http_api::serve(listener, router, limits, async {
                signal().await;
                let _ = stop.send(());
            });
            let following = async {
                let Some(runtime) = &local else { return };
                let mut stopped = stopped.clone();
                let stop = async move {
                    let _ = stopped.changed().await;
                };
                local_runtime::follow(runtime, &wake, DEFAULT_TICK, stop, |run| match run {
                    Ok(report) => {
                        for notice in &report.notices {
                            output::note(&notice_line(notice));
                        }
                    }
                    Err(error) => output::note(&format!("reactions: {error:#}")),
                })
                .await;
            };
            let (served, ()) = tokio::join!(serving, following);
            served
        })
        .context("serving")?;
    Ok(Exit::Ok)
}

/// Ctrl-C or SIGTERM.
async fn signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
