//! The engine: one batch of records in, what became of each out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use handler_core::{
    AggregateKey, Clock, ConfigSource, ConfigSourceError, FailureLog, FailureRecord, StoredEvent,
    rfc3339_millis,
};
use state_machine::{DerivedCommand, StateMachine};

use crate::alarms::{AlarmCounts, AlarmOrder, AlarmSink, KeepAlarms, orders_of};
use crate::delivery::{CommandSink, DeliveryError, Publisher};
use crate::publication::Publication;
use crate::record::{RecordBody, SourceRecord};
use crate::report::{EventOutcome, Outcome, ProcessReport};

/// The event processor: configs to read `publish` and `then` from, where
/// publications go, where reactions go, where reactions that cannot be
/// built are recorded, the clock that dates those records, and where alarm
/// orders go ([`KeepAlarms`] unless [`EventProcessor::with_alarms`] says
/// otherwise).
pub struct EventProcessor<C, P, S, F> {
    configs: C,
    publisher: P,
    sink: S,
    failures: F,
    clock: Arc<dyn Clock>,
    alarms: Arc<dyn AlarmSink>,
    deadline_margin: Duration,
}

impl<C: std::fmt::Debug, P: std::fmt::Debug, S: std::fmt::Debug, F: std::fmt::Debug> std::fmt::Debug
    for EventProcessor<C, P, S, F>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventProcessor")
            .field("configs", &self.configs)
            .field("publisher", &self.publisher)
            .field("sink", &self.sink)
            .field("failures", &self.failures)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// How long before the invocation's deadline no step starts, by default.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// One record while it is processed.
struct Work {
    position: String,
    event: Option<StoredEvent>,
    key: Option<AggregateKey>,
    /// `None` while the event is still in progress.
    outcome: Option<Outcome>,
    publish: bool,
    /// No transition of its config records it (the config changed since).
    unmatched: bool,
    published: bool,
    commands: Vec<DerivedCommand>,
    failures: Vec<FailureRecord>,
    /// Permanent refusals met while sending (recorded after the steps).
    refusals: Vec<FailureRecord>,
    /// Its type has no config: nothing to publish or react, but its alarms
    /// are still armed (they need no config).
    no_config: bool,
    reactions_sent: usize,
    alarms: AlarmCounts,
}

impl Work {
    fn pending(&self) -> bool {
        self.outcome.is_none()
    }

    fn unfinished(&mut self, reason: String) {
        self.outcome = Some(Outcome::Unfinished { reason });
    }
}

impl<C, P, S, F> EventProcessor<C, P, S, F>
where
    C: ConfigSource,
    P: Publisher,
    S: CommandSink,
    F: FailureLog,
{
    /// A processor over these adapters, its failure records dated by
    /// `clock` (`failedAt`); alarm orders go nowhere ([`KeepAlarms`]).
    pub fn new(configs: C, publisher: P, sink: S, failures: F, clock: Arc<dyn Clock>) -> Self {
        Self {
            configs,
            publisher,
            sink,
            failures,
            clock,
            alarms: Arc::new(KeepAlarms),
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }

    /// The same processor, starting no step later than `margin` before the
    /// deadline given to [`EventProcessor::process_until`].
    pub fn with_deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = margin;
        self
    }

    /// The same processor, its alarm orders carried out by `alarms`.
    pub fn with_alarms(mut self, alarms: impl AlarmSink + 'static) -> Self {
        self.alarms = Arc::new(alarms);
        self
    }

    /// Where publications go.
    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Where reactions go.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The adapters back: configs, publisher, sink, failure log.
    pub fn into_parts(self) -> (C, P, S, F) {
        (self.configs, self.publisher, self.sink, self.failures)
    }

    /// Processes one batch: groups the events by aggregate and sorts each
    /// aggregate's by version; then, in waves (the first pending event of
    /// every aggregate, then the second, …), for the wave's events: records
    /// the reactions that cannot be built (one [`FailureLog`] call),
    /// publishes the events of types that publish (one [`Publisher`] call),
    /// sends the reactions (one [`CommandSink`] call), hands over the
    /// alarms the events set and cleared (one [`AlarmSink`] call), and
    /// records the permanent refusals of those steps (one [`FailureLog`]
    /// call, when there are any). An event is finished when its
    /// publication (if any), all its reactions and all its alarm orders
    /// were accepted or permanently refused and recorded; an unfinished
    /// event holds its aggregate's later events, which are then not sent
    /// at all (per-aggregate order: a later event is never published,
    /// reacted to or armed before an earlier one finished). Logs one JSON
    /// line per record.
    pub async fn process(&self, records: Vec<SourceRecord>) -> ProcessReport {
        self.process_until(records, None).await
    }

    /// [`EventProcessor::process`] bounded by the invocation's `deadline`:
    /// no step starts later than the deadline margin before it; the events
    /// not finished by then are unfinished, with a reason, and the answer
    /// comes in time (the stream retries from the first of them).
    pub async fn process_until(
        &self,
        records: Vec<SourceRecord>,
        deadline: Option<Instant>,
    ) -> ProcessReport {
        let late = || deadline.is_some_and(|d| Instant::now() + self.deadline_margin >= d);
        let mut work: Vec<Work> = records
            .into_iter()
            .map(|record| start(record, self.now()))
            .collect();
        let groups = groups(&work);
        self.build(&mut work).await;
        hold(&mut work, &groups);
        // Malformed records have no aggregate order: recorded first, once.
        let malformed: Vec<usize> = (0..work.len())
            .filter(|&i| matches!(work[i].outcome, Some(Outcome::Malformed { .. })))
            .collect();
        self.record_failures(&mut work, &malformed).await;
        let depth = groups.iter().map(Vec::len).max().unwrap_or(0);
        for k in 0..depth {
            let wave: Vec<usize> = groups
                .iter()
                .filter_map(|group| group.get(k).copied())
                .filter(|&i| work[i].pending())
                .collect();
            if wave.is_empty() {
                continue;
            }
            if late() {
                break;
            }
            self.record_failures(&mut work, &wave).await;
            if !late() {
                self.publish(&mut work, &wave).await;
            }
            if !late() {
                self.send(&mut work, &wave).await;
            }
            if !late() {
                self.arm(&mut work, &wave).await;
            }
            self.record_refusals(&mut work, &wave).await;
            hold(&mut work, &groups);
        }
        for w in work.iter_mut().filter(|w| w.pending()) {
            w.unfinished("the invocation's deadline came before it was finished".to_owned());
        }
        hold(&mut work, &groups);
        report(work)
    }

    /// Now, as a failure record's `failedAt`.
    fn now(&self) -> String {
        rfc3339_millis(self.clock.now())
    }

    /// Reads each type's config once, and builds each event's reactions.
    async fn build(&self, work: &mut [Work]) {
        let mut configs: HashMap<String, Result<Arc<StateMachine>, ConfigSourceError>> =
            HashMap::new();
        for w in work.iter_mut() {
            let Some(stored) = &w.event else { continue };
            let aggregate_type = &stored.key.aggregate_type;
            if !configs.contains_key(aggregate_type) {
                let machine = self.configs.state_machine(aggregate_type).await;
                configs.insert(aggregate_type.clone(), machine);
            }
            match &configs[aggregate_type] {
                Err(err) if err.is_permanent() => w.no_config = true,
                Err(err) => w.unfinished(format!("config not had: {err}")),
                Ok(machine) => {
                    w.publish = machine.publishes();
                    w.unmatched = !machine.records(&stored.event.event_type, &stored.event.state);
                    for (index, built) in machine.reactions(&stored.view()).into_iter().enumerate()
                    {
                        let checked = built.map_err(|err| (err.command.clone(), err.to_string()));
                        let checked = checked.and_then(|command| match envelope_check(&command) {
                            Ok(()) => Ok(command),
                            Err(why) => Err((
                                Some(command.command.clone()),
                                format!(
                                    "reaction {index} ({}) of {}, built by the transition \
                                     recording `{}` into `{}`, would be refused by the handler: {why}",
                                    command.command,
                                    stored.event_id(),
                                    stored.event.event_type,
                                    stored.event.state,
                                ),
                            )),
                        });
                        match checked {
                            Ok(command) => w.commands.push(command),
                            Err((command, reason)) => w.failures.push(failure(
                                self.now(),
                                format!("{}/{index}", stored.event_id()),
                                stored,
                                command,
                                "reaction_failed",
                                reason,
                            )),
                        }
                    }
                }
            }
        }
    }

    /// Records the failures of reactions that cannot be built (and of
    /// malformed records) of the records `chosen`, in one call.
    async fn record_failures(&self, work: &mut [Work], chosen: &[usize]) {
        let keep = |w: &Work| w.pending() || matches!(w.outcome, Some(Outcome::Malformed { .. }));
        self.write_records(work, chosen, |w| if keep(w) { &w.failures } else { &[] })
            .await;
    }

    /// Records the permanent refusals met by the steps of the events
    /// `chosen`, in one call; an event whose record is not written is
    /// unfinished (its retry sends again, under the same ids).
    async fn record_refusals(&self, work: &mut [Work], chosen: &[usize]) {
        self.write_records(work, chosen, |w| &w.refusals).await;
    }

    /// Writes the records `of` each chosen event gives, in one call; when
    /// the write fails, every event that had one is unfinished.
    async fn write_records(
        &self,
        work: &mut [Work],
        chosen: &[usize],
        of: impl Fn(&Work) -> &[FailureRecord],
    ) {
        let records: Vec<FailureRecord> = chosen
            .iter()
            .flat_map(|&i| of(&work[i]).iter().cloned())
            .collect();
        if records.is_empty() {
            return;
        }
        if let Err(err) = self.failures.record_failures(&records).await {
            for &i in chosen {
                if !of(&work[i]).is_empty() {
                    work[i].unfinished(format!("failure record not written: {err}"));
                }
            }
        }
    }

    /// Publishes the pending events of types that publish, in aggregate and
    /// version order, in one call.
    async fn publish(&self, work: &mut [Work], wave: &[usize]) {
        let chosen: Vec<usize> = pending(work, wave)
            .into_iter()
            .filter(|&i| work[i].publish)
            .collect();
        if chosen.is_empty() {
            return;
        }
        let items: Vec<Publication> = chosen
            .iter()
            .filter_map(|&i| work[i].event.as_ref().map(Publication::of))
            .collect();
        let results = self.publisher.publish(&items).await;
        for (n, &i) in chosen.iter().enumerate() {
            match answer(&results, n) {
                Ok(()) => work[i].published = true,
                Err(err) if err.is_permanent() => {
                    let w = &mut work[i];
                    if let Some(stored) = &w.event {
                        let record = failure(
                            self.now(),
                            format!("{}/publish", stored.event_id()),
                            stored,
                            None,
                            "publish_failed",
                            format!("publication refused for good: {err}"),
                        );
                        w.refusals.push(record);
                    }
                }
                Err(err) => work[i].unfinished(format!("publication not accepted: {err}")),
            }
        }
    }

    /// Sends the reactions of the pending events, in aggregate and version
    /// order, in one call; an event with a refused reaction is unfinished.
    async fn send(&self, work: &mut [Work], wave: &[usize]) {
        let order = pending(work, wave);
        let commands: Vec<DerivedCommand> = order
            .iter()
            .flat_map(|&i| work[i].commands.iter().cloned())
            .collect();
        let results = if commands.is_empty() {
            Vec::new()
        } else {
            self.sink.send(&commands).await
        };
        let mut n = 0;
        for &i in &order {
            let w = &mut work[i];
            let mut refused = None;
            for command in &w.commands {
                match answer(&results, n) {
                    Ok(()) => w.reactions_sent += 1,
                    Err(err) if err.is_permanent() => {
                        if let Some(stored) = &w.event {
                            let mut record = failure(
                                self.now(),
                                command.command_id.clone(),
                                stored,
                                Some(command.command.clone()),
                                "reaction_failed",
                                format!("reaction {} refused for good: {err}", command.command_id),
                            );
                            record.command_id = Some(command.command_id.clone());
                            w.refusals.push(record);
                        }
                    }
                    Err(err) => refused = refused.or(Some(err)),
                }
                n += 1;
            }
            if let Some(err) = refused {
                w.unfinished(format!("reaction not accepted: {err}"));
            }
        }
    }

    /// Hands the alarm orders of the pending events to the alarm sink, in
    /// aggregate and version order, in one call; every pending event is
    /// then done or unfinished.
    async fn arm(&self, work: &mut [Work], wave: &[usize]) {
        let order = pending(work, wave);
        let mut per_event: Vec<Vec<AlarmOrder>> = Vec::with_capacity(order.len());
        for &i in &order {
            let w = &mut work[i];
            let Some(stored) = &w.event else {
                per_event.push(Vec::new());
                continue;
            };
            let mut mine = Vec::new();
            for alarm_order in orders_of(stored) {
                let checked = match &alarm_order {
                    AlarmOrder::Arm { command, .. } => envelope_check(command),
                    AlarmOrder::Disarm { .. } => Ok(()),
                };
                match checked {
                    Ok(()) => mine.push(alarm_order),
                    Err(why) => {
                        let alarm = alarm_order.alarm();
                        let record = failure(
                            self.now(),
                            format!("{}/alarm/{}", stored.event_id(), alarm.name),
                            stored,
                            Some(alarm.command.clone()),
                            "alarm_failed",
                            format!(
                                "the command of alarm `{}` set by {} would be refused by the handler: {why}",
                                alarm.name,
                                stored.event_id()
                            ),
                        );
                        w.refusals.push(record);
                    }
                }
            }
            per_event.push(mine);
        }
        let orders: Vec<AlarmOrder> = per_event.iter().flatten().cloned().collect();
        let results = if orders.is_empty() {
            Vec::new()
        } else {
            self.alarms.apply(&orders).await
        };
        let mut n = 0;
        for (&i, mine) in order.iter().zip(&per_event) {
            let w = &mut work[i];
            let mut refused = None;
            for alarm_order in mine {
                match answer(&results, n) {
                    Ok(done) => w.alarms.count(done),
                    Err(err) if err.is_permanent() => {
                        if let Some(stored) = &w.event {
                            let alarm = alarm_order.alarm();
                            let record = failure(
                                self.now(),
                                format!("{}/alarm/{}", stored.event_id(), alarm.name),
                                stored,
                                Some(alarm.command.clone()),
                                "alarm_failed",
                                format!("alarm `{}` refused for good: {err}", alarm.name),
                            );
                            w.refusals.push(record);
                        }
                    }
                    Err(err) => refused = refused.or(Some(err)),
                }
                n += 1;
            }
            match refused {
                None if w.no_config => w.outcome = Some(Outcome::NoConfig),
                None => w.outcome = Some(Outcome::Done),
                Some(err) => w.unfinished(format!("alarm not delivered: {err}")),
            }
        }
    }
}

/// The wave's events still pending, in aggregate order.
fn pending(work: &[Work], wave: &[usize]) -> Vec<usize> {
    wave.iter()
        .copied()
        .filter(|&i| work[i].pending())
        .collect()
}

/// The handler's own envelope check of a command the processor built: the
/// command as its message body would carry it, parsed as the handler parses
/// every message. The reason names the field, never its value.
fn envelope_check(command: &DerivedCommand) -> Result<(), String> {
    let body = serde_json::to_string(command).map_err(|e| format!("not JSON: {e}"))?;
    handler_core::parse_command(&body, &command.command_id)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A permanent failure record about `stored`.
fn failure(
    failed_at: String,
    message_id: String,
    stored: &StoredEvent,
    command: Option<String>,
    code: &str,
    reason: String,
) -> FailureRecord {
    FailureRecord {
        message_id,
        aggregate: Some(stored.key.clone()),
        command,
        command_id: None,
        code: code.to_owned(),
        reason,
        permanent: true,
        receive_count: None,
        failed_at,
    }
}

/// The result for item `n`; a missing one (a sink that answered short) is a refusal.
fn answer<T: Clone>(results: &[Result<T, DeliveryError>], n: usize) -> Result<T, DeliveryError> {
    results
        .get(n)
        .cloned()
        .unwrap_or_else(|| Err(DeliveryError::transient("no answer for this item")))
}

/// A record's starting point: events pending, the rest already decided.
fn start(record: SourceRecord, failed_at: String) -> Work {
    let mut w = Work {
        position: record.position,
        event: None,
        key: None,
        outcome: None,
        publish: false,
        unmatched: false,
        published: false,
        commands: Vec::new(),
        failures: Vec::new(),
        refusals: Vec::new(),
        no_config: false,
        reactions_sent: 0,
        alarms: AlarmCounts::default(),
    };
    match record.body {
        RecordBody::Event(stored) => {
            w.key = Some(stored.key.clone());
            w.event = Some(stored);
        }
        RecordBody::NotAnEvent => w.outcome = Some(Outcome::NotAnEvent),
        RecordBody::Malformed { key, reason } => {
            if let Some(key) = &key {
                w.failures.push(FailureRecord {
                    message_id: format!("{key}@record/{}", w.position),
                    aggregate: Some(key.clone()),
                    command: None,
                    command_id: None,
                    code: "malformed_event".to_owned(),
                    reason: reason.clone(),
                    permanent: true,
                    receive_count: None,
                    failed_at,
                });
            }
            w.key = key;
            w.outcome = Some(Outcome::Malformed { reason });
        }
    }
    w
}

/// The events' indexes, grouped by aggregate (in key order), each group in version order.
fn groups(work: &[Work]) -> Vec<Vec<usize>> {
    let mut by_key: BTreeMap<&AggregateKey, Vec<usize>> = BTreeMap::new();
    for (i, w) in work.iter().enumerate() {
        if let Some(stored) = &w.event {
            by_key.entry(&stored.key).or_default().push(i);
        }
    }
    let version = |i: &usize| work[*i].event.as_ref().map_or(0, |e| e.event.version);
    by_key
        .into_values()
        .map(|mut group| {
            group.sort_by_key(version);
            group
        })
        .collect()
}

/// Holds every event after an unfinished one of its aggregate.
fn hold(work: &mut [Work], groups: &[Vec<usize>]) {
    for group in groups {
        let mut stopped = false;
        for &i in group {
            let w = &mut work[i];
            if stopped {
                if !matches!(w.outcome, Some(Outcome::Unfinished { .. })) {
                    w.outcome = Some(Outcome::Held);
                }
            } else if matches!(w.outcome, Some(Outcome::Unfinished { .. } | Outcome::Held)) {
                stopped = true;
            }
        }
    }
}

/// The report, in input order, with one log line per record.
fn report(work: Vec<Work>) -> ProcessReport {
    let mut report = ProcessReport::default();
    for w in work {
        let outcome = w.outcome.unwrap_or(Outcome::Done);
        let outcome = EventOutcome {
            event_id: w.event.as_ref().map(StoredEvent::event_id),
            aggregate: w.key,
            published: w.published,
            reactions_sent: w.reactions_sent,
            alarms: w.alarms,
            reactions_failed: match outcome {
                Outcome::Malformed { .. } => 0,
                _ => {
                    w.failures.len()
                        + w.refusals
                            .iter()
                            .filter(|r| r.code == "reaction_failed")
                            .count()
                }
            },
            position: w.position,
            outcome,
        };
        let refused = refused_reason(&w.refusals);
        log(&outcome, w.unmatched, refused.as_deref());
        if report.first_unfinished.is_none() && !outcome.outcome.is_finished() {
            report.first_unfinished = Some(outcome.position.clone());
        }
        report.outcomes.push(outcome);
    }
    report
}

/// One JSON line per record (the binary's subscriber formats it); never payload values.
/// The permanent refusals recorded for one event, by code (no values).
fn refused_reason(refusals: &[FailureRecord]) -> Option<String> {
    if refusals.is_empty() {
        return None;
    }
    let codes: Vec<&str> = refusals.iter().map(|r| r.code.as_str()).collect();
    Some(format!(
        "refused for good and recorded as failures: {}",
        codes.join(", ")
    ))
}

fn log(o: &EventOutcome, unmatched: bool, refused: Option<&str>) {
    let aggregate = o.aggregate.as_ref().map(ToString::to_string);
    let reason = match &o.outcome {
        Outcome::Malformed { reason } | Outcome::Unfinished { reason } => Some(reason.as_str()),
        Outcome::Held => Some("an earlier event of its aggregate did not finish"),
        _ if refused.is_some() => refused,
        Outcome::NoConfig => Some("no config for its aggregate type"),
        Outcome::Done if unmatched => {
            Some("no transition of the config records this event into this state: no reactions")
        }
        _ => None,
    };
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                position = %o.position,
                event_id = o.event_id.as_deref(),
                aggregate = aggregate.as_deref(),
                outcome = o.outcome.code(),
                published = o.published,
                reactions_sent = o.reactions_sent,
                reactions_failed = o.reactions_failed,
                alarms_sent = o.alarms.sent,
                alarms_delayed = o.alarms.delayed,
                alarms_scheduled = o.alarms.scheduled,
                alarms_unscheduled = o.alarms.unscheduled,
                reason,
                "event processed"
            )
        };
    }
    match &o.outcome {
        Outcome::Done | Outcome::NotAnEvent | Outcome::NoConfig
            if o.reactions_failed == 0 && !unmatched && refused.is_none() =>
        {
            line!(info)
        }
        _ => line!(warn),
    }
}
