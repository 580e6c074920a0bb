//! The role processes a measurement starts (receivers, or one echo), and every wait on them.
//!
//! Each child speaks in lines on its stdout (`ready <port>`, `drained`, its report). A
//! thread per child turns those lines into a channel, so every wait has a deadline and an
//! error says which child failed and how: silent past the deadline, or gone with its exit
//! status. [`harness::Host::spawn`] kills the children if this process dies, and dropping
//! [`Children`] kills and reaps them if a run ends early.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::error::{Doing, Error, Result, process_failed};

/// How long a child may take to bind, join and say `ready`.
const READY: Duration = Duration::from_secs(10);
/// How long a child may take to answer once it has what it needs (`drained`, its report).
const ANSWER: Duration = Duration::from_secs(30);
/// How long a child may take to exit once its stdin is closed.
const EXIT: Duration = Duration::from_secs(10);

/// Role processes, killed and reaped if a run ends early.
pub(crate) struct Children {
    role: &'static str,
    spawned: Vec<Spawned>,
}

struct Spawned {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<io::Result<String>>,
    port: u16,
}

impl Children {
    /// Starts `count` processes of `program` in `host`, called `role` in errors, and waits
    /// for each one's `ready <port>` line.
    pub(crate) fn spawn(
        host: &harness::Host,
        program: &Path,
        role: &'static str,
        count: usize,
        arguments: impl Fn(usize) -> Vec<String>,
    ) -> Result<Children> {
        let mut children = Children {
            role,
            spawned: Vec::with_capacity(count),
        };
        for index in 0..count {
            let mut command = Command::new(program);
            command
                .args(arguments(index))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            let mut child = host
                .spawn(&mut command)
                .doing(|| format!("cannot start {role} {index} ({})", program.display()))?;
            let stdin = child.stdin.take();
            let stdout = child.stdout.take().expect("stdout is piped");
            let (sender, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
            children.spawned.push(Spawned {
                child,
                stdin,
                lines,
                port: 0,
            });
        }
        for index in 0..count {
            let line = children.line(index, "`ready <port>`", READY)?;
            let port = line.strip_prefix("ready ").and_then(|p| p.parse().ok());
            let Some(port) = port else {
                process_failed!("{role} {index} said {line:?} instead of `ready <port>`");
            };
            children.spawned[index].port = port;
        }
        Ok(children)
    }

    /// Each child's port, in order (its unicast port, or the group's).
    pub(crate) fn ports(&self) -> Vec<u16> {
        self.spawned.iter().map(|s| s.port).collect()
    }

    /// Lets held receivers read, and waits until each has emptied its queue.
    pub(crate) fn release_held(&mut self) -> Result<()> {
        for (index, spawned) in self.spawned.iter_mut().enumerate() {
            if let Some(stdin) = spawned.stdin.as_mut() {
                stdin
                    .write_all(b"go\n")
                    .doing(|| format!("cannot tell {} {index} to go", self.role))?;
            }
        }
        for index in 0..self.spawned.len() {
            let line = self.line(index, "`drained`", ANSWER)?;
            if line != "drained" {
                process_failed!(
                    "held {} {index} said {line:?} instead of `drained`",
                    self.role
                );
            }
        }
        Ok(())
    }

    /// The next line from each child, parsed as JSON.
    pub(crate) fn reports<T: serde::de::DeserializeOwned>(&mut self) -> Result<Vec<T>> {
        (0..self.spawned.len())
            .map(|index| {
                let line = self.line(index, "its report", ANSWER)?;
                serde_json::from_str(&line).map_err(|error| {
                    Error::Process(format!("{} {index} reported {line:?}: {error}", self.role))
                })
            })
            .collect()
    }

    /// Closes every child's stdin and waits for each to exit, successfully.
    pub(crate) fn wait(mut self) -> Result<()> {
        for index in 0..self.spawned.len() {
            self.spawned[index].stdin = None;
            // The output ends when the child exits; anything it still says is not expected.
            match self.spawned[index].lines.recv_timeout(EXIT) {
                Err(RecvTimeoutError::Disconnected) => {}
                Ok(line) => process_failed!("{} {index} said {line:?} after its work", self.role),
                Err(RecvTimeoutError::Timeout) => process_failed!(
                    "{} {index} (pid {}) did not exit within {} s",
                    self.role,
                    self.spawned[index].child.id(),
                    EXIT.as_secs()
                ),
            }
            let role = self.role;
            let status = self.spawned[index]
                .child
                .wait()
                .doing(|| format!("waiting for {role} {index}"))?;
            if !status.success() {
                process_failed!("{} {index} failed: {status}", self.role);
            }
        }
        self.spawned.clear();
        Ok(())
    }

    /// The next line of child `index`, waiting at most `patience`; `expecting` says what
    /// for, in the error.
    fn line(&mut self, index: usize, expecting: &str, patience: Duration) -> Result<String> {
        let role = self.role;
        let spawned = &mut self.spawned[index];
        match spawned.lines.recv_timeout(patience) {
            Ok(line) => Ok(line
                .doing(|| format!("cannot read what {role} {index} said"))?
                .trim()
                .to_string()),
            Err(RecvTimeoutError::Timeout) => process_failed!(
                "{role} {index} (pid {}) did not send {expecting} within {} s",
                spawned.child.id(),
                patience.as_secs()
            ),
            Err(RecvTimeoutError::Disconnected) => {
                let status = spawned
                    .child
                    .wait()
                    .doing(|| format!("waiting for {role} {index}"))?;
                process_failed!("{role} {index} exited ({status}) before sending {expecting}")
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for spawned in &mut self.spawned {
            let _ = spawned.child.kill();
            let _ = spawned.child.wait();
        }
    }
}
