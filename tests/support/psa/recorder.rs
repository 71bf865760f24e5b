//! A listener on 127.0.0.1 that records every connection and request head reaching it and answers
//! each request with what a test chose: to show that nothing (or no secret) arrived, or to play a
//! PSA that answers badly (huge pages, error bodies). Not a vendor's API: raw HTTP/1.1.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::lock;

/// What the recorder answers to a request head (the request line and headers).
pub type Answer = Box<dyn Fn(&str) -> Vec<u8> + Send>;

/// The recording listener; dropping it stops it.
pub struct Recorder {
    port: u16,
    connections: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Listens on a free port of 127.0.0.1 and answers each request with `answer(head)`.
    pub fn start(answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> Self {
        Self::try_start(Box::new(answer))
            .unwrap_or_else(|e| panic!("the recorder could not start: {e}"))
    }

    fn try_start(answer: Answer) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        let connections = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (connections, heads, stop) = (connections.clone(), heads.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            serve(stream, &heads, &answer);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Ok(Self {
            port,
            connections,
            heads,
            stop,
            thread: Some(thread),
        })
    }

    /// Answers every request `status` with `body` (JSON).
    pub fn answering(status: &'static str, body: &'static str) -> Self {
        Self::start(move |_| response(status, &[], body.as_bytes()))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections were accepted (with a request or not).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The heads (request line and headers) of the requests received, in order.
    pub fn heads(&self) -> Vec<String> {
        lock(&self.heads).clone()
    }

    /// Whether any request carried the header `name` (any case).
    pub fn saw_header(&self, name: &str) -> bool {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.heads().iter().any(|head| {
            head.lines()
                .any(|line| line.to_ascii_lowercase().starts_with(&prefix))
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP/1.1 answer that closes the connection.
pub fn response(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one request head, records it, writes the answer, closes.
fn serve(mut stream: TcpStream, heads: &Mutex<Vec<String>>, answer: &Answer) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let head = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break String::from_utf8_lossy(&seen[..end]).into_owned();
        }
    };
    lock(heads).push(head.clone());
    let _ = stream.write_all(&answer(&head));
    let _ = stream.flush();
}
