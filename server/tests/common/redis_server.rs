//! A real `redis-server` of the test's own, on a free loopback port, with nothing
//! saved to disk; stopped when dropped. A machine without `redis-server` fails the
//! test with the way to get it (scripts/setup.sh installs it), never skips it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl RedisServer {
    /// Starts one and waits until it answers `PING`. A port another process takes
    /// between our look and Redis's bind is retried with another port.
    pub fn start() -> RedisServer {
        for _ in 0..5 {
            let port = free_port();
            let child = spawn(port);
            let mut server = RedisServer { child, port };
            if server.wait_ready() {
                return server;
            }
        }
        panic!("redis-server did not start on any of five free ports");
    }

    /// Kills it (no goodbye to its clients).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port, empty (nothing was saved).
    pub fn start_again(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            self.child = spawn(self.port);
            if self.wait_ready() {
                return;
            }
            self.kill();
            assert!(
                Instant::now() < deadline,
                "redis-server did not start again"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false; // exited: most likely the port was taken
            }
            if ping(&self.url()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "redis-server is not installed: run scripts/setup.sh \
             (or apt-get install redis-server); these tests need a real Redis"
        ),
        Err(e) => panic!("cannot start redis-server: {e}"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

fn ping(url: &str) -> bool {
    let answer = redis::Client::open(url)
        .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(1)))
        .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn));
    matches!(answer.as_deref(), Ok("PONG"))
}
