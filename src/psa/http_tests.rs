//! The HTTP client against small servers on 127.0.0.1: retries, statuses, redirects, caps, the
//! address check at connection time, and messages that quote nothing.

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
fn one_attempt_is_counted_in_the_singular() {
    let (url, server) = serve(vec![answer("503 Service Unavailable", "", "")]);
    match client().with_attempts(1).send(&get(&url)) {
        Err(PsaError::Unavailable(m)) => assert!(m.ends_with("(1 attempt)"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.join().unwrap(), 1);
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
    let Err(PsaError::Config(m)) = client.send(&get(&format!("http://localhost:{port}/"))) else {
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
