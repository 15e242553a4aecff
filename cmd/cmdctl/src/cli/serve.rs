//! `cmdctl serve`'s options.

use std::net::SocketAddr;

use clap::Args;

/// Where and how the HTTP API is served.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free one (the line
    /// `listening on http://ADDR` says which).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// Requests answered at once; one more is answered 503 at once.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub(crate) max_concurrent: u64,
    /// Seconds a client may take to send its headers, or its body.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) read_timeout: u64,
    #[command(flatten)]
    pub(crate) react: super::react::ReactArgs,
}
