//! Every call to a PSA goes through here: one `ureq` agent per connector (the connection's timeout
//! for the whole call, redirects never followed so credentials never travel, statuses read rather
//! than turned into errors), a size cap on answers, retries of 429, 5xx and network failures
//! (honouring `Retry-After`), and the mapping of statuses to `PsaError`. No vendor knowledge here.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::http::{Response, Uri};

use super::PsaError;

/// The largest answer read (a page of 1,000 ConnectWise companies is far below it).
pub const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
/// Attempts of one call in all (the first and two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The first pause between attempts when the PSA names none; doubled each time.
const BACKOFF: Duration = Duration::from_millis(250);
/// How much of a refusal is read for its message.
const ERROR_BODY_BYTES: u64 = 64 * 1024;
const EXCERPT_CHARS: usize = 160;
const MESSAGE_CHARS: usize = 500;

/// Refuses what cannot be a PSA's address: other schemes than https (http only when allowed),
/// no host, a user name or password in the address, a query, link-local hosts (cloud metadata).
/// Messages never repeat the address (it may hold a password).
pub fn check_address(url: &str, allow_http: bool) -> Result<(), PsaError> {
    let refuse = |message: &str| Err(PsaError::Config(message.to_owned()));
    let Ok(uri) = url.parse::<Uri>() else {
        return refuse(
            "The PSA address is not a valid web address (for example https://api-na.myconnectwise.net).",
        );
    };
    let Some(authority) = uri.authority() else {
        return refuse("The PSA address must start with https:// and name a host.");
    };
    if authority.as_str().contains('@') {
        return refuse(
            "The PSA address must not contain a user name or password: enter the credentials in their own fields.",
        );
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return refuse("The PSA address must name a host.");
    }
    if uri.query().is_some() || url.contains('#') {
        return refuse("The PSA address must not contain ? or #.");
    }
    check_host(host)?;
    let scheme = uri.scheme_str().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("https") || (allow_http && scheme.eq_ignore_ascii_case("http")) {
        Ok(())
    } else if scheme.eq_ignore_ascii_case("http") {
        refuse(
            "The PSA address must start with https:// (plain http:// is only for local trials, with the setting that allows it).",
        )
    } else {
        refuse("The PSA address must start with https://.")
    }
}

/// Refuses link-local and unspecified addresses (169.254.169.254 is the cloud metadata service:
/// no PSA lives there) and numeric hosts written in the legacy forms resolvers still accept.
fn check_host(host: &str) -> Result<(), PsaError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match bare.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let last = bare
                .trim_end_matches('.')
                .rsplit('.')
                .next()
                .unwrap_or_default();
            let numeric = last.chars().all(|c| c.is_ascii_digit())
                || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"));
            if numeric {
                return Err(PsaError::Config(
                    "The PSA address's host is neither a name nor a usual IP address.".into(),
                ));
            }
            return Ok(());
        }
    };
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    let link_local = match (ip, v4) {
        (_, Some(v4)) => v4.is_link_local() || v4.is_unspecified() || v4 == Ipv4Addr::BROADCAST,
        (IpAddr::V6(v6), None) => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_unspecified(),
        (IpAddr::V4(_), None) => false,
    };
    if link_local {
        Err(PsaError::Config(
            "The PSA address is a link-local address (such as the cloud metadata service 169.254.169.254); no PSA is there.".into(),
        ))
    } else {
        Ok(())
    }
}

/// Whether two addresses share scheme, host and port (where credentials may be sent).
pub fn same_origin(a: &str, b: &str) -> bool {
    fn origin(url: &str) -> Option<(String, String, u16)> {
        let uri = url.parse::<Uri>().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let port = uri.port_u16().unwrap_or(default);
        Some((scheme, authority.host().to_ascii_lowercase(), port))
    }
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// Percent-encodes a value for a query string (everything but the unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

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
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PsaError> {
        decode(&self.body)
    }

    /// The `Refused` error this refusal stands for.
    pub fn refusal(&self) -> PsaError {
        PsaError::Refused(refusal_message(self.status, &self.body))
    }
}

/// Decodes JSON, with a message that shows only a short excerpt of what came.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PsaError> {
    serde_json::from_slice(body).map_err(|e| {
        let start = excerpt(body);
        if start.is_empty() {
            PsaError::Malformed("the answer is empty where JSON was expected".into())
        } else {
            PsaError::Malformed(format!(
                "not the JSON expected ({e}); it starts with: {start}"
            ))
        }
    })
}

/// The calls of one connector.
pub struct Client {
    agent: ureq::Agent,
    sleep: fn(Duration),
    attempts: u32,
}

/// What one attempt came to.
enum Attempt {
    Final(Result<Reply, PsaError>),
    Transient(Transient),
}

/// A failure worth another attempt.
struct Transient {
    reason: String,
    retry_after: Option<Duration>,
    /// The PSA surely did not act on the request.
    unprocessed: bool,
}

impl Client {
    pub fn new(timeout: Duration, allow_http: bool) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(!allow_http)
            .timeout_global(Some(timeout))
            .accept("application/json")
            .user_agent(concat!("Roster/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
            sleep: std::thread::sleep,
            attempts: MAX_ATTEMPTS,
        }
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
                    "{} ({attempt} attempts)",
                    transient.reason
                )));
            }
            (self.sleep)(
                transient
                    .retry_after
                    .unwrap_or(BACKOFF * 2u32.pow(attempt - 1)),
            );
            attempt += 1;
        }
    }

    fn attempt(&self, request: &Request<'_>) -> Attempt {
        match self.call(request) {
            Ok(response) => self.answer(request, response),
            Err(e) => transport(e),
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
        match status {
            200..=299 => Attempt::Final(read_body(body).map(|body| Reply { status, link, body })),
            300..=399 => Attempt::Final(Err(PsaError::Config(format!(
                "the PSA answered with a redirect (HTTP {status}{}); enter the final address in the settings",
                location
                    .map(|l| format!(" to {}", clip(&l, 120)))
                    .unwrap_or_default()
            )))),
            401 | 403 => Attempt::Final(Err(PsaError::Unauthorized)),
            404 => Attempt::Final(Err(PsaError::NotFound)),
            429 | 503 => Attempt::Transient(Transient {
                reason: if status == 429 {
                    "the PSA is limiting requests (HTTP 429)".into()
                } else {
                    "the PSA is unavailable (HTTP 503)".into()
                },
                retry_after,
                unprocessed: true,
            }),
            400..=499 if request.inspect_refusals => Attempt::Final(Ok(Reply {
                status,
                link,
                body: error_body(body),
            })),
            400..=499 => Attempt::Final(Err(PsaError::Refused(refusal_message(
                status,
                &error_body(body),
            )))),
            500 if request.refusals_in_500 => {
                let body = error_body(body);
                if has_errors(&body) {
                    Attempt::Final(Err(PsaError::Refused(refusal_message(status, &body))))
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
    Attempt::Transient(Transient {
        reason: format!("the PSA answered with a server error (HTTP {status})"),
        retry_after: None,
        unprocessed: false,
    })
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

/// A network failure: permanent for what the settings got wrong, transient otherwise.
fn transport(e: ureq::Error) -> Attempt {
    use ureq::Error as E;
    let transient = |reason: &str, unprocessed: bool| {
        Attempt::Transient(Transient {
            reason: reason.to_owned(),
            retry_after: None,
            unprocessed,
        })
    };
    match e {
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
        other => transient(
            &format!("network error ({})", clip(&other.to_string(), 120)),
            false,
        ),
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

/// Whether a body is `{"errors": [...]}` with at least one entry (Autotask's refusals).
fn has_errors(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors")
                .and_then(|e| e.as_array())
                .map(|a| !a.is_empty())
        })
        .unwrap_or(false)
}

/// The PSA's own words for a refusal: ConnectWise `message` and `errors[].message` (with the
/// field), Autotask `errors[]`; otherwise the status and a short excerpt.
pub fn refusal_message(status: u16, body: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = value.get("message").or_else(|| value.get("Message"));
        if let Some(m) = message
            .and_then(|m| m.as_str())
            .filter(|m| !m.trim().is_empty())
        {
            parts.push(m.trim().to_owned());
        }
        for error in value
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let text = match error {
                serde_json::Value::String(s) => s.trim().to_owned(),
                serde_json::Value::Object(o) => {
                    let m = o
                        .get("message")
                        .and_then(|m| m.as_str())
                        .unwrap_or_default()
                        .trim();
                    match o.get("field").and_then(|f| f.as_str()) {
                        Some(f) if !f.is_empty() && !m.is_empty() => format!("{f}: {m}"),
                        _ => m.to_owned(),
                    }
                }
                _ => String::new(),
            };
            if !text.is_empty() {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        let start = excerpt(body);
        return if start.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {start}")
        };
    }
    clip(&parts.join("; "), MESSAGE_CHARS)
}

/// `Retry-After` in seconds (the HTTP-date form is ignored), at most `MAX_RETRY_AFTER`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Whether a `Link` header has a `rel="next"` link.
pub fn link_has_next(link: &str) -> bool {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            return false;
        };
        let after = &rest[open + close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let is_next = after[..params_end].split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return true;
        }
        rest = &after[params_end..];
    }
    false
}

/// The start of a body, on one line, for messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clip(line.trim(), EXCERPT_CHARS)
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// What a connector reads once and keeps (types, statuses, field definitions), read again on demand.
pub struct Memo<T>(Mutex<Option<Arc<T>>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T> Memo<T> {
    /// The kept value, or (none kept, or `fresh`) the value `read` gives, kept.
    pub fn get(
        &self,
        fresh: bool,
        read: impl FnOnce() -> Result<T, PsaError>,
    ) -> Result<Arc<T>, PsaError> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = kept.as_ref().filter(|_| !fresh) {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(read()?);
        *kept = Some(Arc::clone(&value));
        Ok(value)
    }
}

/// The entry named `name` as the PSA names it: the same name, else the only one equal ignoring case.
pub fn find_named<'a, T>(
    items: &'a [T],
    name: &str,
    name_of: impl Fn(&T) -> Option<&str>,
) -> Option<&'a T> {
    let name = name.trim();
    let same = |item: &T, fold: bool| {
        name_of(item).is_some_and(|n| {
            if fold {
                n.trim().eq_ignore_ascii_case(name)
            } else {
                n.trim() == name
            }
        })
    };
    if let Some(exact) = items.iter().find(|i| same(i, false)) {
        return Some(exact);
    }
    let mut folded = items.iter().filter(|i| same(i, true));
    match (folded.next(), folded.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Write;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    thread_local! {
        static SLEPT: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
    }

    fn record(pause: Duration) {
        SLEPT.with(|s| s.borrow_mut().push(pause));
    }

    fn slept() -> Vec<Duration> {
        SLEPT.with(|s| s.borrow().clone())
    }

    fn client() -> Client {
        Client::new(Duration::from_secs(5), true).with_sleep(record)
    }

    /// A server that answers each connection with the next of `answers`; joins to the count served.
    fn serve(answers: Vec<String>) -> (String, JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                read_request(&mut stream);
                stream.write_all(answer.as_bytes()).unwrap();
                served += 1;
            }
            served
        });
        (url, handle)
    }

    fn read_request(stream: &mut std::net::TcpStream) {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length || n == 0 {
                    return;
                }
            }
            if n == 0 {
                return;
            }
        }
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn get(url: &str) -> Request<'_> {
        Request::new(Method::Get, url, &[])
    }

    #[test]
    fn addresses_other_than_https_are_refused() {
        assert!(check_address("https://api-na.myconnectwise.net", false).is_ok());
        assert!(check_address("https://webservices.autotask.net/atservicesrest", false).is_ok());
        assert!(check_address("http://127.0.0.1:8080", true).is_ok());
        let refused = |url: &str, allow_http: bool| match check_address(url, allow_http) {
            Err(PsaError::Config(m)) => m,
            other => panic!("{url}: {other:?}"),
        };
        assert!(refused("http://na.myconnectwise.net", false).contains("https://"));
        assert!(refused("ftp://na.myconnectwise.net", true).contains("https://"));
        assert!(refused("na.myconnectwise.net", false).contains("https://"));
        assert!(refused("https://", false).contains("not a valid"));
        assert!(refused("https:///path", false).contains("not a valid"));
        let userinfo = refused("https://me:hunter2@na.myconnectwise.net", false);
        assert!(userinfo.contains("user name or password") && !userinfo.contains("hunter2"));
        assert!(refused("https://na.myconnectwise.net/?a=b", false).contains('?'));
        assert!(refused("https://na.myconnectwise.net/#x", false).contains('#'));
        assert!(refused("not a url", false).contains("not a valid"));
        let metadata = refused("http://169.254.169.254/", false);
        assert!(
            metadata.contains("link-local") && metadata.contains("metadata"),
            "{metadata}"
        );
        assert!(refused("http://169.254.169.254/latest", true).contains("link-local"));
        assert!(refused("https://[fe80::1]/", false).contains("link-local"));
        assert!(refused("https://[::ffff:169.254.169.254]/", false).contains("link-local"));
        assert!(refused("https://0.0.0.0/", false).contains("link-local"));
        assert!(refused("http://2852039166/", true).contains("usual IP"));
        assert!(refused("http://0xa9fea9fe/", true).contains("usual IP"));
        assert!(refused("http://169.254.43518/", true).contains("usual IP"));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let zone = "https://webservices5.autotask.net/atservicesrest/";
        assert!(same_origin(
            "https://WebServices5.autotask.net:443/a?b",
            zone
        ));
        assert!(!same_origin("http://webservices5.autotask.net/a", zone));
        assert!(!same_origin(
            "https://webservices5.autotask.net:8443/a",
            zone
        ));
        assert!(!same_origin("https://evil.example/a", zone));
        assert!(!same_origin("https://x@webservices5.autotask.net/a", zone));
        assert!(!same_origin("/v1.0/Companies/query/next", zone));
        assert!(same_origin("http://127.0.0.1:9/a", "http://127.0.0.1:9/"));
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a.b-c_d~1"), "a.b-c_d~1");
        assert_eq!(encode("me+api@x.com"), "me%2Bapi%40x.com");
        assert_eq!(
            encode("identifier like \"Ab%\""),
            "identifier%20like%20%22Ab%25%22"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn retry_after_is_seconds_capped_at_30() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("1.5"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn link_headers_are_read_for_next() {
        let cw = r#"<https://x/apis/3.0/company/companies?page=2&pageSize=2>; rel="next", <https://x/apis/3.0/company/companies?page=5&pageSize=2>; rel="last""#;
        assert!(link_has_next(cw));
        assert!(link_has_next("<https://x/?a=1,2>;rel=next"));
        assert!(link_has_next(
            r#"<https://x/p2>; title="a"; rel="prev next""#
        ));
        assert!(!link_has_next(
            r#"<https://x/?page=1>; rel="first", <https://x/?page=1>; rel="prev""#
        ));
        assert!(!link_has_next(r#"<https://x/?rel=next>; rel="last""#));
        assert!(!link_has_next(""));
    }

    #[test]
    fn refusals_carry_the_psa_message_not_the_body() {
        let cw = br#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"NullValue","message":"Site is required.","resource":"company","field":"site"}]}"#;
        assert_eq!(
            refusal_message(400, cw),
            "company object is invalid; site: Site is required."
        );
        let at = br#"{"errors":["Value is required for phone.","Second."]}"#;
        assert_eq!(
            refusal_message(500, at),
            "Value is required for phone.; Second."
        );
        assert_eq!(refusal_message(400, b""), "HTTP 400");
        let long = format!("<html>{}</html>", "x".repeat(5000));
        let message = refusal_message(400, long.as_bytes());
        assert!(message.starts_with("HTTP 400: <html>xxx") && message.chars().count() < 200);
    }

    #[test]
    fn malformed_json_names_a_short_excerpt() {
        let body = format!("<html>{}</html>", "y".repeat(10_000));
        let Err(PsaError::Malformed(m)) = decode::<Vec<u8>>(body.as_bytes()) else {
            panic!("not malformed");
        };
        assert!(
            m.contains("it starts with: <html>yyy") && m.len() < 400,
            "{m}"
        );
        let Err(PsaError::Malformed(m)) = decode::<Vec<u8>>(b"") else {
            panic!("not malformed");
        };
        assert!(m.contains("empty"));
    }

    #[test]
    fn names_match_exactly_then_ignoring_case_when_unique() {
        let names = ["Client", "client", "Vendor", "Partner"];
        let find = |name: &str| find_named(&names, name, |n| Some(*n)).copied();
        assert_eq!(find("client"), Some("client"));
        assert_eq!(find(" Vendor "), Some("Vendor"));
        assert_eq!(find("vendor"), Some("Vendor"));
        assert_eq!(find("CLIENT"), None);
        assert_eq!(find("Prospect"), None);
    }

    #[test]
    fn server_errors_are_retried_with_backoff() {
        let busy = answer("503 Service Unavailable", "", "");
        let (url, server) = serve(vec![busy.clone(), busy, answer("200 OK", "", "[1]")]);
        let reply = client().send(&get(&url)).unwrap();
        assert_eq!(reply.json::<Vec<u8>>().unwrap(), vec![1]);
        assert_eq!(
            slept(),
            [Duration::from_millis(250), Duration::from_millis(500)]
        );
        assert_eq!(server.join().unwrap(), 3);
    }

    #[test]
    fn three_failures_are_unavailable() {
        let down = answer("502 Bad Gateway", "", "");
        let (url, server) = serve(vec![down.clone(), down.clone(), down]);
        match client().send(&get(&url)) {
            Err(PsaError::Unavailable(m)) => assert!(m.contains("502") && m.contains("3 attempts")),
            other => panic!("{other:?}"),
        }
        assert_eq!(server.join().unwrap(), 3);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let (url, server) = serve(vec![
            answer("429 Too Many Requests", "Retry-After: 2\r\n", ""),
            answer("503 Service Unavailable", "Retry-After: 600\r\n", ""),
            answer("200 OK", "", "{}"),
        ]);
        client().send(&get(&url)).unwrap();
        assert_eq!(slept(), [Duration::from_secs(2), MAX_RETRY_AFTER]);
        assert_eq!(server.join().unwrap(), 3);
    }

    #[test]
    fn a_create_is_not_repeated_after_a_server_error() {
        let body = serde_json::json!({"name": "x"});
        let (url, server) = serve(vec![answer("500 Internal Server Error", "", "oops")]);
        let request = Request::new(Method::Post, &url, &[]).json(&body).once();
        assert!(matches!(
            client().send(&request),
            Err(PsaError::Unavailable(_))
        ));
        assert_eq!(server.join().unwrap(), 1);
        assert!(slept().is_empty());

        let (url, server) = serve(vec![
            answer("503 Service Unavailable", "", ""),
            answer("201 Created", "", "{}"),
        ]);
        let request = Request::new(Method::Post, &url, &[]).json(&body).once();
        assert!(client().send(&request).is_ok());
        assert_eq!(server.join().unwrap(), 2);
    }

    #[test]
    fn autotask_validation_errors_in_500_are_refusals() {
        let body = serde_json::json!({"companyName": "x"});
        let (url, server) = serve(vec![answer(
            "500 Internal Server Error",
            "",
            r#"{"errors":["Value is required for phone."]}"#,
        )]);
        let request = Request::new(Method::Post, &url, &[])
            .json(&body)
            .once()
            .refusals_in_500();
        let result = client().send(&request);
        assert_eq!(
            result.unwrap_err(),
            PsaError::Refused("Value is required for phone.".into())
        );
        assert_eq!(server.join().unwrap(), 1);
    }

    #[test]
    fn statuses_map_to_errors() {
        let cases = [
            ("401 Unauthorized", PsaError::Unauthorized),
            ("403 Forbidden", PsaError::Unauthorized),
            ("404 Not Found", PsaError::NotFound),
        ];
        for (status, expected) in cases {
            let (url, server) = serve(vec![answer(status, "", r#"{"message":"no"}"#)]);
            assert_eq!(client().send(&get(&url)).unwrap_err(), expected);
            server.join().unwrap();
        }
        let (url, server) = serve(vec![answer(
            "400 Bad Request",
            "",
            r#"{"code":"InvalidObject","message":"bad","errors":[{"message":"Duplicate","field":"identifier"}]}"#,
        )]);
        let refused = client().send(&get(&url)).unwrap_err();
        assert_eq!(
            refused,
            PsaError::Refused("bad; identifier: Duplicate".into())
        );
        server.join().unwrap();
    }

    #[test]
    fn redirects_are_not_followed() {
        let (url, server) = serve(vec![answer(
            "302 Found",
            "Location: https://elsewhere.example/steal\r\n",
            "",
        )]);
        match client().send(&get(&url)) {
            Err(PsaError::Config(m)) => assert!(m.contains("redirect") && m.contains("elsewhere")),
            other => panic!("{other:?}"),
        }
        assert_eq!(server.join().unwrap(), 1);
    }

    #[test]
    fn answers_over_the_cap_are_malformed() {
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n[",
            MAX_BODY_BYTES + 1
        );
        let (url, server) = serve(vec![big]);
        match client().send(&get(&url)) {
            Err(PsaError::Malformed(m)) => assert!(m.contains("larger than 8 MB")),
            other => panic!("{other:?}"),
        }
        server.join().unwrap();
    }

    #[test]
    fn no_connection_is_unavailable_after_three_attempts() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        match client().send(&get(&url)) {
            Err(PsaError::Unavailable(m)) => assert!(m.contains("3 attempts"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(slept().len(), 2);
    }
}
