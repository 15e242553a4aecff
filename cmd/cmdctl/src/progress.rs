//! Progress bars for long work (bulk send, redrive, listings, replay): on
//! stderr, and only when stderr is a terminal and the output is not
//! `--json`, so that scripts and pipes never see them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::context::Context;

/// A bar that clears itself when dropped.
pub(crate) struct Bar(ProgressBar);

impl Bar {
    /// A bar labelled `message`, counting items of unknown number until
    /// [`Bar::set_total`].
    pub(crate) fn new(ctx: &Context<'_>, message: &str) -> Self {
        let visible = !ctx.global.json && std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(
            None,
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(bar)
    }

    /// The work is about `total` items.
    pub(crate) fn set_total(&self, total: u64) {
        if self.0.length() != Some(total) {
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
            ) {
                self.0.set_style(style.progress_chars("=> "));
            }
            self.0.set_length(total);
        }
    }

    /// `done` more items are done.
    pub(crate) fn advance(&self, done: u64) {
        self.0.inc(done);
        // SQS counts are approximate: never let the bar pass its end.
        if let Some(len) = self.0.length()
            && self.0.position() > len
        {
            self.0.set_length(self.0.position());
        }
    }
}

impl sqs_dead_letter::Progress for Bar {
    fn set_total(&self, total: u64) {
        Bar::set_total(self, total);
    }

    fn advance(&self, done: u64) {
        Bar::advance(self, done);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
