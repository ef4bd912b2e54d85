//! [`Problem`]: an RFC 9457 `application/problem+json` response.

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::Value;

use super::ResponseBody;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem-details response being built: `type`, `title`, `status`, `detail` and any
/// extension members, written in that order.
#[derive(Debug, Clone)]
#[must_use]
pub struct Problem {
    status: StatusCode,
    /// The members in the order they were first set (a member set again keeps its place):
    /// four or five, so a list, not a map. A rejection builds one per response, and a map
    /// of `String` keys, cloned to be written, was a third of a flood's rejection cost.
    fields: Vec<(Cow<'static, str>, Value)>,
}

impl Problem {
    /// A problem with `status`; `type` defaults to `about:blank` and `title` to the status's
    /// reason phrase.
    pub fn new(status: StatusCode) -> Self {
        let mut fields = Vec::with_capacity(6);
        fields.push((Cow::Borrowed("type"), Value::from("about:blank")));
        fields.push((
            Cow::Borrowed("title"),
            Value::from(status.canonical_reason().unwrap_or("Error")),
        ));
        fields.push((Cow::Borrowed("status"), Value::from(status.as_u16())));
        Self { status, fields }
    }

    fn set(mut self, name: Cow<'static, str>, value: Value) -> Self {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    /// The problem type URI.
    pub fn type_uri(self, uri: impl Into<String>) -> Self {
        self.set(Cow::Borrowed("type"), Value::String(uri.into()))
    }

    /// A short summary of the problem type.
    pub fn title(self, title: impl Into<String>) -> Self {
        self.set(Cow::Borrowed("title"), Value::String(title.into()))
    }

    /// What went wrong with this request.
    pub fn detail(self, detail: impl Into<String>) -> Self {
        self.set(Cow::Borrowed("detail"), Value::String(detail.into()))
    }

    /// An extension member (`retryAfter`, ...).
    pub fn extension(self, name: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        self.set(name.into(), value.into())
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(160);
        out.push(b'{');
        for (i, (name, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Writing JSON into a Vec cannot fail: a string and a `Value` always serialize.
            let _ = serde_json::to_writer(&mut out, name.as_ref());
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, value);
        }
        out.push(b'}');
        // serde_json writes UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// The response as `Response<Bytes>`, with `Content-Type: application/problem+json`.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut res = Response::new(Bytes::from(self.to_json()));
        *res.status_mut() = self.status;
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }

    /// The response, with `Content-Type: application/problem+json`.
    pub fn into_response<B>(self) -> Response<ResponseBody<B>> {
        let body = self.to_json();
        let mut res = Response::new(ResponseBody::full(body));
        *res.status_mut() = self.status;
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        res
    }
}
