//! Redrive: dead letters back to their source queue, losing none.
//!
//! For `--all`, SQS's message move task is tried first ([`move_task`]), but
//! only when it keeps every idempotency key: a listing of the whole DLQ
//! finds a `commandId` in every body ([`move_task::unsafe_for`]), since a
//! moved message gets a new message id. Otherwise (or when the service
//! refuses it) each selected message is
//! **sent** to the source queue and only once SQS accepted the copy
//! **deleted** from the DLQ, never the other way round. Interrupted
//! between the two, a message is in both queues, and the handler applies
//! it once: its `commandId` is the idempotency key (a body without one is
//! given its original message id as one, see
//! [`DeadLetter::redrive_body`]).
//!
//! While a redrive runs, the messages it received and does not move stay
//! hidden (so it does not see them twice); they are made visible again at
//! the end.

use std::collections::{BTreeSet, HashSet};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use command_messages::chunking::{MAX_BATCH, batches};
use command_messages::envelope::fifo_group;
use sqs_batch::{Outgoing, send_batch};

use crate::move_task::{self, MoveTask};
use crate::peek::{PeekOptions, peek, receive, release};
use crate::{DeadLetter, DlqError, Progress, queues};

/// Which dead letters to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every message in the DLQ.
    All,
    /// These, each named by its DLQ message id or its original one.
    Ids(Vec<String>),
}

/// How a redrive works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedriveOptions {
    /// How long received messages stay hidden, in seconds (default 60).
    pub visibility_timeout: i32,
    /// Long-poll wait of each receive, in seconds (default 1).
    pub wait_time_seconds: i32,
    /// Try SQS's message move task for [`Selection::All`] (default true).
    pub use_move_task: bool,
}

impl Default for RedriveOptions {
    fn default() -> Self {
        Self {
            visibility_timeout: 60,
            wait_time_seconds: 1,
            use_move_task: true,
        }
    }
}

/// How the messages were moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveMethod {
    /// SQS moves them: follow with [`move_task::wait`].
    MoveTask(MoveTask),
    /// Sent to the source queue, then deleted from the DLQ, here.
    SendThenDelete {
        /// Why the move task was not used, with `--all`: the service
        /// refused it, or (`not used: ...`) it would have lost an
        /// idempotency key.
        move_task_refused: Option<String>,
    },
}

/// One message now on the source queue and gone from the DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Its id in the DLQ.
    pub dlq_message_id: String,
    /// The id the handler first saw (the failure record's key).
    pub original_message_id: String,
    /// The copy's id on the source queue.
    pub source_message_id: String,
}

/// One message a step failed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMoved {
    /// Its id in the DLQ.
    pub dlq_message_id: String,
    /// What SQS said.
    pub reason: String,
}

/// What a redrive did.
#[derive(Debug, Clone, PartialEq)]
pub struct RedriveReport {
    /// How.
    pub method: RedriveMethod,
    /// Moved: on the source queue, gone from the DLQ.
    pub moved: Vec<Moved>,
    /// Not sent: still in the DLQ only.
    pub send_failed: Vec<NotMoved>,
    /// Sent but not deleted: in both queues (the handler applies the
    /// command once; the DLQ copy can be redriven or purged later).
    pub delete_failed: Vec<NotMoved>,
    /// Ids asked for that are not in the DLQ.
    pub not_found: Vec<String>,
    /// The error that stopped the redrive halfway, if one did.
    pub stopped: Option<DlqError>,
}

impl RedriveReport {
    fn new(method: RedriveMethod) -> Self {
        Self {
            method,
            moved: Vec::new(),
            send_failed: Vec::new(),
            delete_failed: Vec::new(),
            not_found: Vec::new(),
            stopped: None,
        }
    }

    /// True when everything asked for was moved (or a move task started).
    pub fn is_complete(&self) -> bool {
        self.send_failed.is_empty()
            && self.delete_failed.is_empty()
            && self.not_found.is_empty()
            && self.stopped.is_none()
    }
}

/// The outcome of [`Redrive::send_copies`]: indexes into the letters given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// Accepted by SQS: (index, the copy's message id).
    pub sent: Vec<(usize, String)>,
    /// Refused by SQS: (index, reason).
    pub failed: Vec<(usize, String)>,
}

/// A redrive from one DLQ to one source queue.
#[derive(Debug, Clone)]
pub struct Redrive {
    client: Client,
    dlq_url: String,
    source_url: String,
    options: RedriveOptions,
}

impl Redrive {
    /// From the DLQ at `dlq_url` to the queue at `source_url`.
    pub fn new(client: Client, dlq_url: impl Into<String>, source_url: impl Into<String>) -> Self {
        Self {
            client,
            dlq_url: dlq_url.into(),
            source_url: source_url.into(),
            options: RedriveOptions::default(),
        }
    }

    /// With other options.
    pub fn with_options(mut self, options: RedriveOptions) -> Self {
        self.options = options;
        self
    }

    /// The DLQ's URL.
    pub fn dlq_url(&self) -> &str {
        &self.dlq_url
    }

    /// The source queue's URL.
    pub fn source_url(&self) -> &str {
        &self.source_url
    }

    /// Moves the selected messages. Fails only when nothing could be done
    /// (the DLQ is no queue's DLQ, so it may be a live queue; the DLQ cannot
    /// be read; the first send is impossible); an error after some messages
    /// moved ends the run and is in [`RedriveReport::stopped`].
    pub async fn run(
        &self,
        selection: &Selection,
        progress: &dyn Progress,
    ) -> Result<RedriveReport, DlqError> {
        queues::ensure_dead_letter_queue(&self.client, &self.dlq_url).await?;
        let mut move_task_refused = None;
        if *selection == Selection::All && self.options.use_move_task {
            match self.move_task_unsafe().await? {
                Some(why) => {
                    tracing::info!(reason = %why, "message move task not used; sending then deleting");
                    move_task_refused = Some(format!("not used: {why}"));
                }
                None => {
                    match move_task::start(&self.client, &self.dlq_url, &self.source_url).await {
                        Ok(task) => return Ok(RedriveReport::new(RedriveMethod::MoveTask(task))),
                        Err(e) => {
                            tracing::info!(error = %e, "no message move task; sending then deleting");
                            move_task_refused = Some(e.to_string());
                        }
                    }
                }
            }
        }
        let mut report = RedriveReport::new(RedriveMethod::SendThenDelete { move_task_refused });
        progress.set_total(match selection {
            Selection::All => queues::approximate_visible(&self.client, &self.dlq_url).await?,
            Selection::Ids(ids) => ids.len() as u64,
        });
        let mut held = Vec::new();
        let result = self
            .send_then_delete(selection, progress, &mut report, &mut held)
            .await;
        if let Err(e) = release(&self.client, &self.dlq_url, &held).await {
            tracing::warn!(error = %e, "unmoved messages stay hidden until their visibility timeout ends");
        }
        match result {
            Ok(()) => Ok(report),
            Err(e) if report.moved.is_empty() && report.delete_failed.is_empty() => Err(e),
            Err(e) => {
                report.stopped = Some(e);
                Ok(report)
            }
        }
    }

    /// Why SQS's move task would lose an idempotency key here
    /// ([`move_task::unsafe_for`] over a listing of the whole DLQ), or
    /// `None`.
    async fn move_task_unsafe(&self) -> Result<Option<String>, DlqError> {
        let fifo = queues::is_fifo(&self.dlq_url);
        if fifo {
            return Ok(move_task::unsafe_for(&[], fifo, 0));
        }
        let options = PeekOptions {
            visibility_timeout: self.options.visibility_timeout,
            wait_time_seconds: self.options.wait_time_seconds,
            limit: None,
        };
        let letters = peek(&self.client, &self.dlq_url, &options, &()).await?;
        let unlisted = queues::approximate_hidden(&self.client, &self.dlq_url).await?;
        Ok(move_task::unsafe_for(&letters, fifo, unlisted))
    }

    async fn send_then_delete(
        &self,
        selection: &Selection,
        progress: &dyn Progress,
        report: &mut RedriveReport,
        held: &mut Vec<DeadLetter>,
    ) -> Result<(), DlqError> {
        let mut wanted: Option<BTreeSet<String>> = match selection {
            Selection::All => None,
            Selection::Ids(ids) => Some(ids.iter().cloned().collect()),
        };
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            if wanted.as_ref().is_some_and(BTreeSet::is_empty) {
                break;
            }
            let received = receive(
                &self.client,
                &self.dlq_url,
                MAX_BATCH,
                self.options.visibility_timeout,
                self.options.wait_time_seconds,
            )
            .await?;
            let mut new = Vec::new();
            for letter in received {
                if seen.insert(letter.message_id.clone()) {
                    new.push(letter);
                } else if let Some(old) =
                    held.iter_mut().find(|h| h.message_id == letter.message_id)
                {
                    // Come round again: only the newest receipt handle works.
                    *old = letter;
                }
            }
            if new.is_empty() {
                break;
            }
            let (selected, others): (Vec<DeadLetter>, Vec<DeadLetter>) =
                new.into_iter().partition(|letter| match &mut wanted {
                    None => true,
                    Some(ids) => {
                        let own = ids.remove(&letter.message_id);
                        let original = ids.remove(letter.original_message_id());
                        own || original
                    }
                });
            held.extend(others);
            if selected.is_empty() {
                continue;
            }
            self.move_letters(selected, progress, report, held).await?;
        }
        report.not_found = wanted.unwrap_or_default().into_iter().collect();
        Ok(())
    }

    /// Sends the copies, then deletes those SQS accepted; what is not moved
    /// joins `held`.
    async fn move_letters(
        &self,
        letters: Vec<DeadLetter>,
        progress: &dyn Progress,
        report: &mut RedriveReport,
        held: &mut Vec<DeadLetter>,
    ) -> Result<(), DlqError> {
        let sent = match self.send_copies(&letters).await {
            Ok(sent) => sent,
            Err(e) => {
                held.extend(letters);
                return Err(e);
            }
        };
        for (i, reason) in &sent.failed {
            report.send_failed.push(NotMoved {
                dlq_message_id: letters[*i].message_id.clone(),
                reason: reason.clone(),
            });
            held.push(letters[*i].clone());
        }
        let copies: Vec<(&DeadLetter, &str)> = sent
            .sent
            .iter()
            .map(|(i, id)| (&letters[*i], id.as_str()))
            .collect();
        let to_delete: Vec<DeadLetter> = copies.iter().map(|(l, _)| (*l).clone()).collect();
        let (not_deleted, error) = match self.delete(&to_delete).await {
            Ok(failed) => (failed, None),
            Err(e) => (
                to_delete
                    .iter()
                    .map(|l| NotMoved {
                        dlq_message_id: l.message_id.clone(),
                        reason: e.to_string(),
                    })
                    .collect(),
                Some(e),
            ),
        };
        for (letter, source_message_id) in copies {
            if let Some(failed) = not_deleted
                .iter()
                .find(|n| n.dlq_message_id == letter.message_id)
            {
                report.delete_failed.push(failed.clone());
                held.push(letter.clone());
            } else {
                report.moved.push(Moved {
                    dlq_message_id: letter.message_id.clone(),
                    original_message_id: letter.original_message_id().to_owned(),
                    source_message_id: source_message_id.to_owned(),
                });
                progress.advance(1);
            }
        }
        error.map_or(Ok(()), Err)
    }

    /// Step one: sends a copy of each letter to the source queue (the body
    /// of [`DeadLetter::redrive_body`], the attributes of
    /// [`DeadLetter::redrive_attributes`]; on a FIFO queue the letter's
    /// group, else its aggregate, and the deduplication id
    /// `redrive-{DLQ message id}`, so sending the same letter twice within
    /// SQS's deduplication window queues it once). Fails when a request
    /// fails as a whole.
    pub async fn send_copies(&self, letters: &[DeadLetter]) -> Result<Sent, DlqError> {
        let fifo = queues::is_fifo(&self.source_url);
        let copies: Vec<Outgoing> = letters.iter().map(|l| copy_of(l, fifo)).collect();
        let sizes: Vec<usize> = copies.iter().map(|c| c.body.len()).collect();
        let mut outcome = Sent::default();
        for range in batches(&sizes) {
            let start = range.start;
            let answer = send_batch(&self.client, &self.source_url, &copies[range])
                .await
                .map_err(|e| DlqError::sqs("SendMessageBatch", &self.source_url, e))?;
            outcome
                .sent
                .extend(answer.sent.into_iter().map(|(i, id)| (start + i, id)));
            outcome.failed.extend(
                answer
                    .refused
                    .iter()
                    .map(|refused| (start + refused.index, refused.to_string())),
            );
        }
        Ok(outcome)
    }

    /// Step two: deletes the letters from the DLQ by their receipt
    /// handles. Returns the ones SQS refused; fails when a request fails
    /// as a whole.
    pub async fn delete(&self, letters: &[DeadLetter]) -> Result<Vec<NotMoved>, DlqError> {
        let mut refused = Vec::new();
        for chunk in letters.chunks(MAX_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&l.receipt_handle)
                        .build()
                        .ok()
                })
                .collect();
            let out = self
                .client
                .delete_message_batch()
                .queue_url(&self.dlq_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| DlqError::sqs("DeleteMessageBatch", &self.dlq_url, e))?;
            for failed in out.failed() {
                if let Some(letter) = failed.id().parse::<usize>().ok().and_then(|i| chunk.get(i)) {
                    refused.push(NotMoved {
                        dlq_message_id: letter.message_id.clone(),
                        reason: format!(
                            "{}: {}",
                            failed.code(),
                            failed.message().unwrap_or_default()
                        ),
                    });
                }
            }
        }
        Ok(refused)
    }
}

/// The copy of one letter sent back to the source queue.
fn copy_of(letter: &DeadLetter, fifo: bool) -> Outgoing {
    let mut copy = Outgoing::new(letter.redrive_body());
    copy.attributes = letter.redrive_attributes();
    if fifo {
        let group = letter
            .message_group_id
            .clone()
            .or_else(|| letter.body_fields().aggregate.map(|pk| fifo_group(&pk)))
            .unwrap_or_else(|| "redriven".to_owned());
        copy = copy.in_group(group, format!("redrive-{}", letter.message_id));
    }
    copy
}
