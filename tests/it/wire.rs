//! A raw stdio client for the built binary: writes bytes to its stdin as a client would
//! (including bytes no client should send), reads its stdout line by line with a deadline,
//! and keeps its stderr so a failing test can show the server's logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any one answer may take. Generous: tests run a debug build on a shared 2-core
/// machine, and a 10 MB line takes a while to parse unoptimised.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub struct Server {
    pub child: Child,
    stdin: Option<ChildStdin>,
    /// The server's stdout, when no thread reads it (see [`Server::spawn_unread`]).
    stdout: Option<ChildStdout>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread draining stderr; joined once the process has exited, so that
    /// [`Server::stderr`] then holds everything the server wrote.
    stderr_drain: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `expansion-planner serve` and completes the MCP handshake.
    pub fn start() -> Server {
        let mut s = Server::spawn();
        s.handshake();
        s
    }

    /// Starts `expansion-planner serve` without the handshake.
    pub fn spawn() -> Server {
        Server::spawn_with(true)
    }

    /// Starts the server with nobody reading its stdout: a client that stops reading.
    pub fn spawn_unread() -> Server {
        Server::spawn_with(false)
    }

    /// Starts reading the stdout of a server from [`Server::spawn_unread`]: a client that
    /// stopped reading comes back.
    pub fn start_reading(&mut self) {
        let stdout = self.stdout.take().expect("stdout is unread");
        let (tx, lines) = channel();
        self.lines = lines;
        Server::read_lines(stdout, tx);
    }

    /// Hands over the server's stdin, for a thread that writes while this one reads.
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin is open")
    }

    /// Closes the read end of the server's stdout: a client that went away.
    pub fn close_stdout(&mut self) {
        self.stdout = None;
    }

    fn spawn_with(read_stdout: bool) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_expansion-planner"));
        cmd.args(["serve", "--demo"]);
        Server::spawn_command(cmd, read_stdout)
    }

    /// Starts a command that runs the server (e.g. `serve --db FILE`, or the server inside a
    /// mount namespace) and completes the MCP handshake.
    pub fn start_command(cmd: Command) -> Server {
        let mut s = Server::spawn_command(cmd, true);
        s.handshake();
        s
    }

    fn spawn_command(mut cmd: Command, read_stdout: bool) -> Server {
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let (tx, lines) = channel();
        let mut unread = None;
        let stdout = child.stdout.take().unwrap();
        if !read_stdout {
            unread = Some(stdout);
        } else {
            Server::read_lines(stdout, tx);
        }
        // Drain stderr so the server never blocks on a full pipe; keep the tail.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let keep = stderr.clone();
        let stderr_drain = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut k = keep.lock().unwrap();
                k.push_str(&String::from_utf8_lossy(&buf[..n]));
                if k.len() > 64 * 1024 {
                    let cut = k.len() - 32 * 1024;
                    let cut = (cut..k.len()).find(|&i| k.is_char_boundary(i)).unwrap();
                    k.drain(..cut);
                }
            }
        });
        let stdin = child.stdin.take();
        Server {
            child,
            stdin,
            stdout: unread,
            lines,
            stderr,
            stderr_drain: Some(stderr_drain),
        }
    }

    fn read_lines(stdout: ChildStdout, tx: Sender<String>) {
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut line = String::new();
                match r.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }

    pub fn handshake(&mut self) -> Value {
        self.send_initialize();
        let init = self.answer_to(&json!(0), DEADLINE);
        self.send_json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        init
    }

    pub fn send_initialize(&mut self) {
        self.send_json(&json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "wire-test", "version": "1"}}
        }));
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Writes raw bytes; a newline is not added.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let w = self.stdin.as_mut().expect("stdin is open");
        w.write_all(bytes)?;
        w.flush()
    }

    /// Writes one line (the bytes plus a newline).
    pub fn send_line(&mut self, bytes: &[u8]) {
        let mut line = Vec::with_capacity(bytes.len() + 1);
        line.extend_from_slice(bytes);
        line.push(b'\n');
        self.write(&line).expect("write to the server");
    }

    pub fn send_json(&mut self, v: &Value) {
        self.send_line(v.to_string().as_bytes());
    }

    /// Closes stdin: the end of the session for a stdio server.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line from stdout, parsed, within `timeout`; `None` on timeout or EOF.
    pub fn next(&mut self, timeout: Duration) -> Option<Value> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Some(serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("the server wrote a line that is not JSON ({e}): {line:?}")
            })),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// The answer with this id, skipping others (notifications, answers to other ids).
    pub fn answer_to(&mut self, id: &Value, timeout: Duration) -> Value {
        let until = Instant::now() + timeout;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(v) if &v["id"] == id => return v,
                Some(_) => {}
                None => panic!(
                    "no answer to id {id} within {timeout:?}; server stderr:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    /// Waits for the process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipe is closed with the process: the drain ends at once.
                if let Some(drain) = self.stderr_drain.take() {
                    drain.join().unwrap();
                }
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmHWM` is the peak resident set).
    pub fn status_kib(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// CPU time used so far (user + system), in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = rest.split(' ').collect();
        // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after `)`.
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stdin = None;
        if self.wait_exit(Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `tools/call` request line.
pub fn tool_call(id: u64, tool: &str, arguments: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": arguments}})
}

/// The text of a tool result's content blocks.
pub fn result_text(answer: &Value) -> String {
    answer["result"]["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The playbook's own example: 45 seats, 12 active, 26.7 % utilisation.
pub fn oversold() -> Value {
    json!({
        "name": "Oversold Ltd", "as_of": "2026-11-15", "account_executive": "Dana",
        "contract": {"arr": 54000, "licensed_seats": 45},
        "usage": {"active_users": 12},
        "health": {"score": 55, "goals": [{"goal": "Automate reporting", "status": "on_track"}],
                   "relationship": {"responsive": true, "engaged": true, "sponsor": "Lee"}}
    })
}

/// Asserts the server still computes the right figures: a check_health that must succeed.
pub fn assert_still_answers(s: &mut Server, id: u64) {
    s.send_json(&tool_call(
        id,
        "check_health",
        &json!({"snapshot": oversold()}),
    ));
    let a = s.answer_to(&json!(id), DEADLINE);
    assert_eq!(
        a["result"]["isError"],
        json!(false),
        "the follow-up call failed: {a}"
    );
    assert_eq!(
        a["result"]["structuredContent"]["utilisation_pct"],
        json!(26.7)
    );
}
