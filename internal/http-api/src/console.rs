//! The operator console (docs/console.md): three static files, embedded in
//! the binary and served at `GET /`, `GET /console/app.js` and
//! `GET /console/app.css`, every answer with a content-security policy that
//! allows only this origin's script, style, images and fetches. The page
//! reads the same JSON routes as any client; nothing here reads the store.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// The policy of every console answer: no inline script or style, nothing
/// from another origin, no framing.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The headers every console answer carries (the diagram's SVG too).
pub(crate) fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// An `ETag` per file: the hash of its bytes, which change only with the
/// binary.
fn etag(text: &str) -> HeaderValue {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    HeaderValue::from_str(&format!("\"{:016x}\"", hasher.finish()))
        .unwrap_or_else(|_| HeaderValue::from_static("\"console\""))
}

static ETAGS: LazyLock<[HeaderValue; 3]> =
    LazyLock::new(|| [etag(INDEX), etag(APP_JS), etag(APP_CSS)]);

fn asset(
    request: &HeaderMap,
    body: &'static str,
    content_type: &'static str,
    tag: &HeaderValue,
) -> Response {
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == tag.as_bytes());
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, tag.clone());
    secure(headers);
    response
}

/// `GET /`: the page.
pub(crate) async fn index(request: HeaderMap) -> Response {
    asset(&request, INDEX, "text/html; charset=utf-8", &ETAGS[0])
}

/// `GET /console/app.js`.
pub(crate) async fn script(request: HeaderMap) -> Response {
    asset(
        &request,
        APP_JS,
        "text/javascript; charset=utf-8",
        &ETAGS[1],
    )
}

/// `GET /console/app.css`.
pub(crate) async fn style(request: HeaderMap) -> Response {
    asset(&request, APP_CSS, "text/css; charset=utf-8", &ETAGS[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        assert!(!INDEX.contains("style="), "no style attribute");
        assert_eq!(INDEX.matches("<script").count(), 1);
        assert!(INDEX.contains("<script src=\"/console/app.js\" defer></script>"));
        assert!(!INDEX.contains(" on"), "no inline handler");
    }

    #[test]
    fn the_script_never_parses_html() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ] {
            assert!(!APP_JS.contains(sink), "app.js uses {sink}");
        }
    }
}
