//! [`Problem`]: an RFC 9457 `application/problem+json` response.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value};

use super::ResponseBody;

/// The media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem-details response being built: `type`, `title`, `status`, `detail` and any
/// extension members.
#[derive(Debug, Clone)]
#[must_use]
pub struct Problem {
    status: StatusCode,
    fields: Map<String, Value>,
}

impl Problem {
    /// A problem with `status`; `type` defaults to `about:blank` and `title` to the status's
    /// reason phrase.
    pub fn new(status: StatusCode) -> Self {
        let mut fields = Map::new();
        fields.insert("type".into(), "about:blank".into());
        fields.insert(
            "title".into(),
            status.canonical_reason().unwrap_or("Error").into(),
        );
        fields.insert("status".into(), status.as_u16().into());
        Self { status, fields }
    }

    /// The problem type URI.
    pub fn type_uri(mut self, uri: impl Into<String>) -> Self {
        self.fields.insert("type".into(), uri.into().into());
        self
    }

    /// A short summary of the problem type.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.fields.insert("title".into(), title.into().into());
        self
    }

    /// What went wrong with this request.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.fields.insert("detail".into(), detail.into().into());
        self
    }

    /// An extension member (`retryAfter`, ...).
    pub fn extension(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body.
    pub fn to_json(&self) -> String {
        Value::Object(self.fields.clone()).to_string()
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
