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
                    "{} ({attempt} attempts)",
                    transient.reason
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
mod tests {
    use super::*;
    use crate::psa::retry::MAX_RETRY_AFTER;
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
        Client::new(Duration::from_secs(5), LOCAL).with_sleep(record)
    }

    /// The servers of these tests run on 127.0.0.1.
    const LOCAL: AddressPolicy = AddressPolicy {
        allow_http: true,
        allow_private: true,
    };

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
    fn addresses_on_the_own_network_are_not_connected_to() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let strict = AddressPolicy {
            allow_http: true,
            allow_private: false,
        };
        let client = Client::new(Duration::from_secs(5), strict).with_sleep(record);
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://localhost:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
        ] {
            match client.send(&get(&url)) {
                Err(PsaError::Config(m)) => {
                    assert!(m.contains("ROSTER_PSA_ALLOW_PRIVATE"), "{url}: {m}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        // A name is named with what it resolved to.
        let Err(PsaError::Config(m)) = client.send(&get(&format!("http://localhost:{port}/")))
        else {
            panic!("not refused");
        };
        assert!(
            m.contains("resolves to 127.0.0.1") || m.contains("resolves to ::1"),
            "{m}"
        );
        assert!(listener.accept().is_err(), "a connection was made");
        assert!(slept().is_empty(), "a refused address is not tried again");
    }

    #[test]
    fn without_quotes_errors_give_the_status_alone() {
        let marker = "INTERNAL-MARKER";
        let client = || client().without_quotes().with_attempts(1);
        let cases = [
            (
                "400 Bad Request",
                format!(r#"{{"message":"{marker}"}}"#),
                "400",
            ),
            ("302 Found", String::new(), "302"),
            ("500 Internal Server Error", marker.to_owned(), "500"),
        ];
        for (status, body, code) in cases {
            let headers = format!("Location: https://{marker}/\r\n");
            let (url, server) = serve(vec![answer(status, &headers, &body)]);
            let m = client().send(&get(&url)).unwrap_err().to_string();
            assert!(m.contains(code) && !m.contains(marker), "{status}: {m}");
            server.join().unwrap();
        }
        let (url, server) = serve(vec![answer("200 OK", "", &format!("<p>{marker}</p>"))]);
        let reply = client().send(&get(&url)).unwrap();
        let m = reply.json::<Vec<u8>>().unwrap_err().to_string();
        assert!(m.contains("200") && !m.contains(marker), "{m}");
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
