//! An endpoint that accepts connections and never answers: a listening
//! socket on loopback that takes every connection, keeps it open and reads
//! nothing back. A client without timeouts waits on it forever; tests point
//! `AWS_ENDPOINT_URL` (or an SDK config's endpoint) at it to check that every
//! call gives up, and that whatever waits on one still answers in time.
//!
//! ```
//! let hole = testkit::black_hole::BlackHole::start();
//! let _stream = std::net::TcpStream::connect(hole.address()).unwrap();
//! assert!(hole.endpoint().starts_with("http://127.0.0.1:"));
//! ```

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The listening socket and the thread holding its connections; both end
/// when it is dropped.
#[derive(Debug)]
pub struct BlackHole {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    /// Listens on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = std::thread::spawn({
            let (stop, accepted) = (stop.clone(), accepted.clone());
            move || {
                // Held, never read from or written to, closed at the end.
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            held.push(stream);
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            }
        });
        Self {
            address,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    /// The socket's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` or an SDK config.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many connections it has taken so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
