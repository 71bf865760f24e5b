//! Every call to a PSA goes through here: one `ureq` agent per connector (the connection's timeout
//! for the whole call, redirects never followed so credentials never travel, no proxy, statuses
//! read rather than turned into errors, only addresses that `address.rs` checked), a size cap on
//! answers, the retries of `retry.rs`, and the mapping of statuses to `PsaError`. No vendor
//! knowledge here.

use std::io::Read;
use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::http::Response;
use ureq::unversioned::transport::DefaultConnector;

use super::PsaError;
use super::address::{AddressPolicy, AddressRefused, CheckedResolver};
use super::answers::{clip, decode, has_errors, refusal_message};
use super::retry::{MAX_ATTEMPTS, Transient, parse_retry_after};

/// The largest answer read (a page of 1,000 ConnectWise companies is far below it).
pub const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
/// How much of a refusal is read for its message.
const ERROR_BODY_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

/// One call. `repeatable` is false for calls that must not run twice (creating a company): they
/// are retried only when the PSA surely did not act on them (429, 503, no connection).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub headers: &'a [(&'static str, String)],
    pub json: Option<&'a serde_json::Value>,
    pub repeatable: bool,
    /// Return 4xx refusals (but 401, 403, 404 and 429) as a `Reply` to inspect, instead of `Refused`.
    pub inspect_refusals: bool,
    /// A 500 whose body is `{"errors": [...]}` is a refusal, not an outage (Autotask answers
    /// validation errors so).
    pub refusals_in_500: bool,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: &'a str, headers: &'a [(&'static str, String)]) -> Self {
        Self {
            method,
            url,
            headers,
            json: None,
            repeatable: true,
            inspect_refusals: false,
            refusals_in_500: false,
        }
    }

    pub fn json(mut self, body: &'a serde_json::Value) -> Self {
        self.json = Some(body);
        self
    }

    /// Never sent twice unless the PSA surely did not act on it.
    pub fn once(mut self) -> Self {
        self.repeatable = false;
        self
    }

    pub fn inspect_refusals(mut self) -> Self {
        self.inspect_refusals = true;
        self
    }

    pub fn refusals_in_500(mut self) -> Self {
        self.refusals_in_500 = true;
        self
    }
}

/// A successful answer (or, with `inspect_refusals`, a 4xx refusal).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// The `Link` header(s), joined with ", ".
    pub link: Option<String>,
    pub body: Vec<u8>,
    /// Whether error messages may quote the answer (see `Client::without_quotes`).
    pub quote: bool,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PsaError> {
        if self.quote {
            decode(&self.body)
        } else {
            serde_json::from_slice(&self.body).map_err(|_| {
                PsaError::Malformed(format!(
                    "the PSA answered {} with something other than the JSON expected",
                    self.status
                ))
            })
        }
    }

    /// The `Refused` error this refusal stands for.
    pub fn refusal(&self) -> PsaError {
        refused(self.status, &self.body, self.quote)
    }
}

/// A refusal: the PSA's own words, or (not quoting) the status alone.
fn refused(status: u16, body: &[u8], quote: bool) -> PsaError {
    PsaError::Refused(if quote {
        refusal_message(status, body)
    } else {
        format!("the PSA answered {status}: the request was refused")
    })
}

/// The calls of one connector.
pub struct Client {
    agent: ureq::Agent,
    sleep: fn(Duration),
    attempts: u32,
    quote: bool,
}

/// What one attempt came to.
enum Attempt {
    Final(Result<Reply, PsaError>),
    Transient(Transient),
}

impl Client {
    /// A proxy from the environment is not used: the connection must go to the checked address.
    pub fn new(timeout: Duration, policy: AddressPolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(!policy.allow_http)
            .proxy(None)
            .timeout_global(Some(timeout))
            .accept("application/json")
            .user_agent(concat!("Roster/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: ureq::Agent::with_parts(
                config,
                DefaultConnector::default(),
                CheckedResolver::new(policy),
            ),
            sleep: std::thread::sleep,
            attempts: MAX_ATTEMPTS,
            quote: true,
        }
    }

    /// Error messages give the status and a fixed reason, never the text of an answer (Test
    /// connection: whatever the address, its answers are not shown).
    pub fn without_quotes(mut self) -> Self {
        self.quote = false;
        self
    }

    /// At most `attempts` attempts per call (1 within a user's request: no waiting there).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.clamp(1, MAX_ATTEMPTS);
        self
    }

    /// Replaces the pause between attempts (tests).
    pub fn with_sleep(mut self, sleep: fn(Duration)) -> Self {
        self.sleep = sleep;
        self
    }

    /// Sends the request, with up to `MAX_ATTEMPTS` attempts for transient failures.
    pub fn send(&self, request: &Request<'_>) -> Result<Reply, PsaError> {
        let mut attempt = 1;
        loop {
            let transient = match self.attempt(request) {
                Attempt::Final(result) => return result,
                Attempt::Transient(t) => t,
            };
            if !request.repeatable && !transient.unprocessed {
                return Err(PsaError::Unavailable(transient.reason));
            }
            if attempt >= self.attempts {
                return Err(PsaError::Unavailable(format!(
                    "{} ({attempt} attempt{})",
                    transient.reason,
                    if attempt == 1 { "" } else { "s" }
                )));
            }
            (self.sleep)(transient.pause(attempt));
            attempt += 1;
        }
    }

    fn attempt(&self, request: &Request<'_>) -> Attempt {
        match self.call(request) {
            Ok(response) => self.answer(request, response),
            Err(e) => transport(e, self.quote),
        }
    }

    fn call(&self, request: &Request<'_>) -> Result<Response<ureq::Body>, ureq::Error> {
        if matches!(request.method, Method::Get | Method::Delete) {
            let mut builder = if request.method == Method::Get {
                self.agent.get(request.url)
            } else {
                self.agent.delete(request.url)
            };
            for (name, value) in request.headers {
                builder = builder.header(*name, value);
            }
            return builder.call();
        }
        let mut builder = if request.method == Method::Post {
            self.agent.post(request.url)
        } else {
            self.agent.patch(request.url)
        };
        for (name, value) in request.headers {
            builder = builder.header(*name, value);
        }
        match request.json {
            Some(body) => builder.send_json(body),
            None => builder.send_empty(),
        }
    }

    fn answer(&self, request: &Request<'_>, response: Response<ureq::Body>) -> Attempt {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let link = header_values(&response, "link");
        let location = header_values(&response, "location");
        let body = response.into_body();
        let quote = self.quote;
        match status {
            200..=299 => Attempt::Final(read_body(body).map(|body| Reply {
                status,
                link,
                body,
                quote,
            })),
            300..=399 => Attempt::Final(Err(PsaError::Config(format!(
                "the PSA answered with a redirect (HTTP {status}{}); enter the final address in the settings",
                location
                    .filter(|_| quote)
                    .map(|l| format!(" to {}", clip(&l, 120)))
                    .unwrap_or_default()
            )))),
            401 | 403 => Attempt::Final(Err(PsaError::Unauthorized)),
            404 => Attempt::Final(Err(PsaError::NotFound)),
            429 | 503 => Attempt::Transient(Transient {
                retry_after,
                ..Transient::new(
                    if status == 429 {
                        "the PSA is limiting requests (HTTP 429)"
                    } else {
                        "the PSA is unavailable (HTTP 503)"
                    },
                    true,
                )
            }),
            400..=499 if request.inspect_refusals => Attempt::Final(Ok(Reply {
                status,
                link,
                body: error_body(body),
                quote,
            })),
            400..=499 => Attempt::Final(Err(refused(status, &error_body(body), quote))),
            500 if request.refusals_in_500 => {
                let body = error_body(body);
                if has_errors(&body) {
                    Attempt::Final(Err(refused(status, &body, quote)))
                } else {
                    server_error(status)
                }
            }
            500..=599 => server_error(status),
            _ => Attempt::Final(Err(PsaError::Malformed(format!(
                "unexpected HTTP status {status}"
            )))),
        }
    }
}

fn server_error(status: u16) -> Attempt {
    Attempt::Transient(Transient::new(
        format!("the PSA answered {status}: a server error"),
        false,
    ))
}

fn header_values(response: &Response<ureq::Body>, name: &str) -> Option<String> {
    let values: Vec<&str> = response
        .headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// A network failure: permanent for what the settings got wrong (or the address policy refuses),
/// transient otherwise.
fn transport(e: ureq::Error, quote: bool) -> Attempt {
    use ureq::Error as E;
    let transient =
        |reason: &str, unprocessed: bool| Attempt::Transient(Transient::new(reason, unprocessed));
    match e {
        E::Other(other) => match other.downcast_ref::<AddressRefused>() {
            Some(AddressRefused(message)) => Attempt::Final(Err(PsaError::Config(message.clone()))),
            None if quote => transient(
                &format!("network error ({})", clip(&other.to_string(), 120)),
                false,
            ),
            None => transient("network error", false),
        },
        E::BadUri(_) | E::RequireHttpsOnly(_) | E::InvalidProxyUrl | E::Http(_) => {
            Attempt::Final(Err(PsaError::Config(
                "the PSA address or a credential cannot be sent as given (invalid characters?)"
                    .into(),
            )))
        }
        E::BodyExceedsLimit(_) | E::LargeResponseHeader(..) => Attempt::Final(Err(too_large())),
        E::Timeout(_) => transient("the PSA did not answer in time", false),
        E::HostNotFound => transient("the PSA's host name was not found", true),
        E::ConnectionFailed => transient("no connection to the PSA", true),
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            transient("the PSA refused the connection", true)
        }
        E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            transient("the PSA did not answer in time", false)
        }
        E::Io(io) => transient(&format!("network error ({})", io.kind()), false),
        E::Tls(_) | E::Rustls(_) => {
            transient("the secure connection (TLS) to the PSA failed", true)
        }
        other if quote => transient(
            &format!("network error ({})", clip(&other.to_string(), 120)),
            false,
        ),
        _ => transient("network error", false),
    }
}

fn too_large() -> PsaError {
    PsaError::Malformed(format!(
        "the PSA's answer is larger than {} MB",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

/// A successful answer's body, at most `MAX_BODY_BYTES`.
fn read_body(body: ureq::Body) -> Result<Vec<u8>, PsaError> {
    if body.content_length().is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    body.into_with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => too_large(),
            ureq::Error::Timeout(_) => {
                PsaError::Unavailable("the PSA's answer did not arrive in time".into())
            }
            _ => PsaError::Unavailable("the PSA's answer was cut off".into()),
        })
}

/// The start of a refusal's body (enough for its message); empty when unreadable.
fn error_body(body: ureq::Body) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = body
        .into_reader()
        .take(ERROR_BODY_BYTES)
        .read_to_end(&mut out);
    out
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
