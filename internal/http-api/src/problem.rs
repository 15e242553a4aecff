//! Every error the API answers: an `application/problem+json` document (RFC
//! 9457) with `type`, `title`, `status`, `detail` and `code`. Its texts are
//! fixed per code: an answer never quotes a value from the request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handler_core::envelope::EnvelopeError;
use handler_core::{Failure, Permanent, Transient};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before sending again after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:command-handler:problem:invalid_transition",
    "title": "Invalid transition",
    "status": 409,
    "detail": "the command is not allowed in the aggregate's current state",
    "code": "invalid_transition"
}))]
pub struct Problem {
    /// `urn:command-handler:problem:{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary, the same for every problem of this code.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong, in words; never a value from the request.
    pub detail: String,
    /// A failure code of the reference's table, or `bad_request`,
    /// `not_found`, `too_large`, `unsupported_media_type`,
    /// `idempotency_key_mismatch`, `aggregate_mismatch`, `overloaded`,
    /// `queue_unavailable`.
    pub code: &'static str,
}

impl Problem {
    /// A problem of `status` and `code`.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            problem_type: format!("urn:command-handler:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Bad request",
            detail,
        )
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// 413 `too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "Body too large",
            format!("the body is over the {limit}-byte limit"),
        )
    }

    /// 503 `overloaded`: more requests at once than the server takes.
    pub fn overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Overloaded",
            "the server is answering as many requests as it takes at once; send again later",
        )
    }

    /// A store read failed: 503 `store_unavailable`.
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "Store unavailable",
            "the event store did not answer; send again later",
        )
    }

    /// The answer to a command the handler did not apply.
    pub fn for_failure(failure: &Failure) -> Self {
        match failure {
            Failure::Permanent(permanent) => permanent_problem(permanent),
            Failure::Transient(transient) => transient_problem(transient),
        }
    }

    /// The answer to a body that is not a command message.
    pub fn for_envelope(error: &EnvelopeError) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed_message",
            "Not a command message",
            envelope_detail(error),
        )
    }

    fn is_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE.as_u16()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.is_unavailable();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// 409 for a command that conflicts with the aggregate as it is (its state,
/// its version, or the use of its id); 422 for one that can never apply.
fn permanent_problem(permanent: &Permanent) -> Problem {
    use handler_core::state_machine::Rejection;
    let conflict = StatusCode::CONFLICT;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match permanent {
        Permanent::Envelope(error) => Problem::for_envelope(error),
        Permanent::UnknownAggregateType(_) => Problem::new(
            unprocessable,
            "unknown_aggregate_type",
            "Unknown aggregate type",
            "no config is deployed for the command's aggregateType",
        ),
        Permanent::Decision(Rejection::UnknownCommand { .. }) => Problem::new(
            unprocessable,
            "unknown_command",
            "Unknown command",
            "the aggregate type's config has no transition for this command",
        ),
        Permanent::Decision(Rejection::InvalidTransition { .. }) => Problem::new(
            conflict,
            "invalid_transition",
            "Invalid transition",
            "the command is not allowed in the aggregate's current state",
        ),
        Permanent::Decision(Rejection::SchemaViolation { .. }) => Problem::new(
            unprocessable,
            "schema_violation",
            "Payload does not match the schema",
            "the payload does not match the transition's payloadSchema",
        ),
        Permanent::Decision(Rejection::GuardFailed { .. }) => Problem::new(
            unprocessable,
            "guard_failed",
            "Guard failed",
            "a guard of the transition refused the command",
        ),
        Permanent::Decision(Rejection::AlarmInvalid { .. }) => Problem::new(
            unprocessable,
            "alarm_invalid",
            "Alarm invalid",
            "an alarm the transition sets could not be computed",
        ),
        Permanent::Decision(Rejection::AlarmMismatch { .. }) => Problem::new(
            conflict,
            "alarm_mismatch",
            "Alarm mismatch",
            "the firing is not the alarm the aggregate has set",
        ),
        Permanent::Decision(Rejection::AlarmNotDue { .. }) => Problem::new(
            conflict,
            "alarm_not_due",
            "Alarm not due",
            "the alarm is not due yet",
        ),
        Permanent::Decision(Rejection::Stale { .. }) => Problem::new(
            conflict,
            "stale",
            "Stale",
            "the alarm no longer applies to the aggregate",
        ),
        Permanent::VersionMismatch { .. } => Problem::new(
            conflict,
            "version_conflict",
            "Version conflict",
            "expectedVersion is not the aggregate's version",
        ),
        Permanent::TooLarge(_) => Problem::new(
            unprocessable,
            "too_large",
            "Commit too large",
            "the command's events are larger than the store writes at once",
        ),
        Permanent::CommandIdReused { .. } => Problem::new(
            conflict,
            "command_id_reused",
            "Command id reused",
            "the commandId was already applied to another command or payload",
        ),
        Permanent::UnboundEvent { .. } => Problem::new(
            unprocessable,
            "unbound_event",
            "Unbound event",
            "no config binds the event's source and detail-type",
        ),
        Permanent::AmbiguousBinding { .. } => Problem::new(
            unprocessable,
            "ambiguous_binding",
            "Ambiguous binding",
            "more than one config binds the event's source and detail-type",
        ),
        Permanent::BindingFailed(_) => Problem::new(
            unprocessable,
            "binding_failed",
            "Binding failed",
            "the event's binding could not build a valid command",
        ),
    }
}

fn transient_problem(transient: &Transient) -> Problem {
    let detail = match transient {
        Transient::Store(_) => "the event store did not answer",
        Transient::Config(_) => "the config source did not answer",
        Transient::ConflictRetriesExhausted { .. } => "other writers kept changing the aggregate",
        Transient::HeldBack { .. } => "an earlier command of the aggregate failed",
        Transient::DeadlineReached | Transient::DeadlineInterrupted => {
            "the command did not finish in time; it may have been applied"
        }
    };
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        transient.code(),
        "Unavailable",
        format!("{detail}; send the same request again (same Idempotency-Key)"),
    )
}

/// The envelope's reason when it names only fields; a fixed text when it
/// would name a member or a path the request chose.
fn envelope_detail(error: &EnvelopeError) -> String {
    match error {
        EnvelopeError::Malformed { .. } => "the body is not a command message (docs/reference.md §1): a field is missing, has the wrong type, or is unknown".to_owned(),
        EnvelopeError::NumberOutOfRange { .. } => "a number in payload or metadata is beyond ±(2^53 − 1), which JSON readers would round; send it as a string".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_problem_json_with_its_code_and_a_retry_after_when_unavailable() {
        let response = Problem::overloaded().into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = Problem::not_found("no such route").into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn a_version_mismatch_is_answered_as_a_version_conflict() {
        let failure = Failure::Permanent(Permanent::VersionMismatch {
            expected: 1,
            actual: 2,
        });
        let problem = Problem::for_failure(&failure);
        assert_eq!((problem.status, problem.code), (409, "version_conflict"));
    }

    #[test]
    fn an_outside_event_refused_is_unprocessable_with_its_code() {
        let (id, source, detail_type) = ("e-1".to_owned(), "s".to_owned(), "d".to_owned());
        for (permanent, code) in [
            (
                Permanent::UnboundEvent {
                    event_id: id.clone(),
                    event_source: source.clone(),
                    detail_type: detail_type.clone(),
                },
                "unbound_event",
            ),
            (
                Permanent::AmbiguousBinding {
                    event_id: id.clone(),
                    event_source: source,
                    detail_type,
                    aggregate_types: vec!["a".into(), "b".into()],
                },
                "ambiguous_binding",
            ),
            (
                Permanent::BindingFailed(handler_core::state_machine::BindingError {
                    binding: "bindings[0]".into(),
                    event_id: id,
                    reason: "`aggregateId`: rule failed".into(),
                }),
                "binding_failed",
            ),
        ] {
            assert_eq!(permanent.code(), code);
            let problem = Problem::for_failure(&Failure::Permanent(permanent));
            assert_eq!((problem.status, problem.code), (422, code));
        }
    }
}
