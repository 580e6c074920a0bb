//! Every `console` block of the book, run in a lab, its output compared with the book.
//!
//! One test per chapter. Each scenario of a chapter (see `docs::walkthrough`) runs in the lab
//! it names (`lab::Lab`, what `cargo lab` opens); consecutive scenarios that name
//! the same lab share it, as a reader keeps one lab open. Each block runs as `bash -c` in the
//! host it names, with the environment a lab shell has (`Lab::command`: the workspace's
//! programs first on `PATH`), in the lab's PID namespace: the door `cargo lab exec` uses. A
//! block marked `terminal=N` is started in the background, the next step waits until it is
//! *ready* (it has a bound UDP socket and one of its threads is blocked waiting for input,
//! the state of a receiver that finished its setup), and at the end of the scenario it gets
//! Ctrl-C (SIGINT) once its output matches the book, or after a deadline. A line of output the
//! book does not show is a failure.
//!
//! The programs on the lab's `PATH` are current: `docs::binaries` takes the ones cargo built
//! and builds the missing or stale ones, once per test process; an example the book runs is
//! found or built the same way, once per test process too. The blocks before any lab (the
//! reader's own shell, only `cargo run -q -p PACKAGE --bin NAME` or `cargo run -q -p PACKAGE
//! [--features LIST] --example NAME`) run that binary or example in a one-host lab; cargo
//! never runs inside a lab.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use docs::walkthrough::{self, CargoRun, Scenario, Target, Topology};
use lab::{Lab, Network};

/// How long a foreground command may run before it counts as hung.
const COMMAND_DEADLINE: Duration = Duration::from_secs(30);
/// How long a background program may take to become ready.
const READY_DEADLINE: Duration = Duration::from_secs(10);
/// How long a background program may take to print what the book shows.
const OUTPUT_DEADLINE: Duration = Duration::from_secs(5);

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The chapters, as the book's `src/` holds them.
fn chapters() -> BTreeSet<String> {
    std::fs::read_dir(book_dir())
        .expect("docs/src is readable")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".md"))
        .collect()
}

macro_rules! walkthroughs {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[doc = concat!("The commands of `", $file, "` print what the book shows.")]
            #[test]
            fn $test() {
                walk($file);
            }
        )*

        /// Every chapter has its walkthrough test: a new chapter cannot slip past the suite.
        #[test]
        fn every_chapter_is_walked_through() {
            let listed: BTreeSet<String> = [$($file),*].into_iter().map(String::from).collect();
            assert_eq!(listed, chapters(), "add the new chapter to walkthroughs! in this file");
        }
    };
}

walkthroughs! {
    summary => "SUMMARY.md",
    before_you_start => "before-you-start.md",
    introduction => "introduction.md",
    where_things_are => "where-things-are.md",
    sandbox => "sandbox.md",
    ruby_port => "ruby-port.md",
    python_echo => "python-echo.md",
    rust_diary => "rust-diary.md",
    loopback => "loopback.md",
    harness_chapter => "harness.md",
    troubleshooting => "troubleshooting.md",
    on_the_wire => "on-the-wire.md",
    two_cards => "two-cards.md",
    ssm => "ssm.md",
    portable_join => "portable-join.md",
    claims => "claims.md",
    glossary => "glossary.md",
}

/// Only the sandbox chapter may show shell commands that the suite does not run: anywhere
/// else a command belongs in a `console` block.
#[test]
fn commands_elsewhere_are_console_blocks() {
    for chapter in chapters() {
        if chapter == "sandbox.md" {
            continue;
        }
        let text = std::fs::read_to_string(book_dir().join(&chapter)).unwrap();
        let unrun = walkthrough::unrun_command_blocks(&text);
        assert!(
            unrun.is_empty(),
            "{chapter}: {}",
            unrun
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
}

fn walk(file: &str) {
    interrupt_ends_programs();
    let path = book_dir().join(file);
    let text = std::fs::read_to_string(&path).expect("chapter is readable");
    let scenarios =
        walkthrough::parse(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut open: Option<(Topology, Lab)> = None;
    for scenario in &scenarios {
        let same_lab = open.as_ref().is_some_and(|(t, _)| *t == scenario.topology);
        check_captions(file, scenario, same_lab);
        if !same_lab {
            // The reader leaves the previous lab before opening the next.
            drop(open.take());
            let lab = harness::or_skip!(open_lab(&scenario.topology));
            open = Some((scenario.topology.clone(), lab));
        }
        let (_, lab) = open.as_ref().expect("opened above");
        run_scenario(file, scenario, lab);
    }
}

/// Makes Ctrl-C (SIGINT) end the programs this process starts, as it does in a terminal. A
/// process started with SIGINT ignored (a background job of a script: `cargo test &`, or
/// `nohup`) passes that on to every program it starts, and a background block would then
/// outlive its Ctrl-C and be killed only after [`Running::interrupt`]'s 2 s (which cost the
/// chapters 22 s in all).
fn interrupt_ends_programs() {
    static DEFAULT: std::sync::Once = std::sync::Once::new();
    DEFAULT.call_once(|| {
        // SAFETY: restores the default disposition of one signal; no handler is installed,
        // and no other thread of this process relies on SIGINT being ignored.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
        }
    });
}

/// The lab a scenario names, with the workspace's current programs first on `PATH`.
fn open_lab(topology: &Topology) -> harness::Result<Lab> {
    let network = match topology {
        Topology::Workspace | Topology::Sandbox => Network::Sandbox,
        Topology::Lan(names) => Network::Lan(names.clone()),
    };
    let lab = Lab::new(network)?;
    match docs::binaries::current_programs() {
        Ok(bin) => lab.with_bin(bin),
        Err(why) => panic!("the workspace's programs: {why}"),
    }
}

/// A reader must be told which lab to open and where each block runs: the prose before a
/// new lab's first block names the command that opens it, and a block's caption names its
/// terminal and, on a LAN, its host.
fn check_captions(file: &str, scenario: &Scenario, same_lab: bool) {
    if let Some(command) = scenario.topology.lab_command()
        && !same_lab
    {
        assert!(
            scenario.opening.contains(&format!("`{command}`")),
            "{file}:{}: the text before this lab's first block must say `{command}`",
            scenario.line
        );
    }
    for step in &scenario.steps {
        let caption = step.caption.replace(['`', '*'], "").to_lowercase();
        if step.terminal != 1 {
            let wanted = format!("terminal {}", step.terminal);
            assert!(
                caption.contains(&wanted),
                "{file}:{}: the text before this block must say `{wanted}`",
                step.line
            );
        }
        let host = match (&scenario.topology, &step.host) {
            (_, Some(host)) => host,
            (Topology::Lan(hosts), None) => &hosts[0],
            _ => continue,
        };
        let wanted = format!("host {host}");
        assert!(
            caption.contains(&wanted),
            "{file}:{}: the text before this block must say `{wanted}`",
            step.line
        );
    }
}

/// The host a step runs in: the one it names, or the lab's first.
fn host_of<'a>(lab: &'a Lab, name: Option<&'a str>) -> &'a str {
    name.unwrap_or_else(|| lab.entry().hosts[0].name.as_str())
}

fn run_scenario(file: &str, scenario: &Scenario, lab: &Lab) {
    let mut background = Background::default();
    for step in &scenario.steps {
        let host = host_of(lab, step.host.as_deref());
        let at = |line: usize| format!("{file}:{line} (host {host})");
        let diagnostics = || lab.host(host).map(|h| h.diagnostics()).unwrap_or_default();
        if step.terminal != 1 {
            background.finish(step.terminal, file);
            let command = &step.commands[0];
            let running = Running::start(lab, host, &command.text)
                .unwrap_or_else(|e| panic!("{}: `{}`: {e}", at(command.line), command.text));
            running.wait_until_ready().unwrap_or_else(|why| {
                panic!(
                    "{}: `{}` never became ready: {why}\n{}",
                    at(command.line),
                    command.text,
                    diagnostics()
                )
            });
            background
                .running
                .insert(step.terminal, (command.clone(), running));
            continue;
        }
        for (index, command) in step.commands.iter().enumerate() {
            let (status, output) = run_to_end(lab, host, &command.text)
                .unwrap_or_else(|e| panic!("{}: `{}`: {e}", at(command.line), command.text));
            if let Err(mismatch) = walkthrough::check_output(&command.expected, &output) {
                background.stop_all();
                panic!(
                    "{}: `{}`\n{mismatch}\n{}",
                    at(command.line),
                    command.text,
                    diagnostics()
                );
            }
            let wanted = if index + 1 == step.commands.len() {
                step.status
            } else {
                0
            };
            if status != wanted {
                background.stop_all();
                panic!(
                    "{}: `{}` exited with {status}, the book expects {wanted}\n{output}",
                    at(command.line),
                    command.text
                );
            }
        }
    }
    let terminals: Vec<u32> = background.running.keys().copied().collect();
    for terminal in terminals {
        background.finish(terminal, file);
    }
}

/// Background programs of one scenario, by terminal number.
#[derive(Default)]
struct Background {
    running: BTreeMap<u32, (walkthrough::Command, Running)>,
}

impl Background {
    /// Waits for the program in `terminal` to print what the book shows, stops it with
    /// Ctrl-C and checks its whole output.
    fn finish(&mut self, terminal: u32, file: &str) {
        let Some((command, running)) = self.running.remove(&terminal) else {
            return;
        };
        running.wait_for_output(&command.expected);
        let output = running.interrupt();
        if let Err(mismatch) = walkthrough::check_output(&command.expected, &output) {
            self.stop_all();
            panic!(
                "{file}:{} (terminal {terminal}): `{}`\n{mismatch}",
                command.line, command.text
            );
        }
    }

    fn stop_all(&mut self) {
        for (_, (_, running)) in std::mem::take(&mut self.running) {
            running.interrupt();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Output collected from a child's stdout and stderr (one pipe, so lines keep their order).
#[derive(Default)]
struct Collected {
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A program running in the background.
struct Running {
    child: Child,
    /// The program's stdin, held open like a terminal's until it is interrupted.
    _stdin: Option<std::process::ChildStdin>,
    output: Arc<Collected>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Running {
    fn start(lab: &Lab, host: &str, command: &str) -> io::Result<Running> {
        let (mut child, reader) = spawn_shell(
            lab,
            host,
            &format!("exec {}", translate(command)?),
            Stdio::piped(),
        )?;
        let stdin = child.stdin.take();
        let output = Arc::new(Collected::default());
        let collected = Arc::clone(&output);
        let reader = thread::spawn(move || collect(reader, &collected));
        Ok(Running {
            child,
            _stdin: stdin,
            output,
            reader: Some(reader),
        })
    }

    /// Ready: the program holds a bound UDP socket and one of its threads waits in a
    /// receive, poll or read system call. Polls that condition; never sleeps blindly.
    fn wait_until_ready(&self) -> Result<(), String> {
        let pid = self.child.id();
        let started = Instant::now();
        loop {
            if is_ready(pid) {
                return Ok(());
            }
            let (text, closed) = self.output.text.lock().unwrap().clone();
            if closed || started.elapsed() > READY_DEADLINE {
                return Err(format!("it printed:\n{text}"));
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until the output matches the book, stops growing towards it, or the deadline.
    fn wait_for_output(&self, expected: &[String]) {
        let deadline = Instant::now() + OUTPUT_DEADLINE;
        let mut guard = self.output.text.lock().unwrap();
        loop {
            let (text, closed) = &*guard;
            if *closed
                || walkthrough::check_output(expected, text).is_ok()
                || !walkthrough::is_prefix_of_match(expected, text)
            {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            guard = self
                .output
                .changed
                .wait_timeout(guard, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Ctrl-C, then (if it does not stop) SIGKILL; returns everything it printed.
    fn interrupt(mut self) -> String {
        signal(self.child.id(), libc::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.output.text.lock().unwrap().0.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(mut reader: io::PipeReader, collected: &Collected) {
    let mut buffer = [0u8; 4096];
    loop {
        let n = reader.read(&mut buffer).unwrap_or(0);
        let mut guard = collected.text.lock().unwrap();
        if n == 0 {
            guard.1 = true;
            collected.changed.notify_all();
            return;
        }
        guard.0.push_str(&String::from_utf8_lossy(&buffer[..n]));
        collected.changed.notify_all();
    }
}

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child's pid; it has not been reaped yet.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Runs a foreground command to completion: its exit status and its output.
fn run_to_end(lab: &Lab, host: &str, command: &str) -> io::Result<(i32, String)> {
    let (mut child, mut reader) = spawn_shell(lab, host, &translate(command)?, Stdio::null())?;
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if finished.recv_timeout(COMMAND_DEADLINE).is_err() {
            signal(pid, libc::SIGKILL);
        }
    });
    let mut output = Vec::new();
    reader.read_to_end(&mut output)?;
    let status = child.wait()?;
    let _ = done.send(());
    let _ = watchdog.join();
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    Ok((code, String::from_utf8_lossy(&output).into_owned()))
}

/// Starts `bash -c SCRIPT` in `host` as a lab shell would run it, stdout and stderr into
/// one pipe.
fn spawn_shell(
    lab: &Lab,
    host: &str,
    script: &str,
    stdin: Stdio,
) -> io::Result<(Child, io::PipeReader)> {
    let (reader, writer) = io::pipe()?;
    let child = {
        let mut process = lab.command(host, "bash");
        process
            .arg("-c")
            .arg(script)
            .current_dir(docs::binaries::workspace())
            .env("NO_COLOR", "1")
            .env("TERM", "dumb")
            .env("RUST_BACKTRACE", "0")
            .stdin(stdin)
            .stdout(writer.try_clone()?)
            .stderr(writer);
        lab.spawn(host, &mut process).map_err(io::Error::other)?
        // `process` (and with it our copy of the pipe's write end) is dropped here, so the
        // reader sees end-of-file when the child exits.
    };
    Ok((child, reader))
}

/// The command as the lab's shell runs it: a `cargo run` of the reader's own shell (also one
/// stage of a pipeline, `printf 'hi\n' | cargo run ...`) becomes the program it runs: a
/// binary by name (it is on the lab's `PATH` and current), an example by its path (current
/// too, see `docs::binaries::current_example`).
fn translate(command: &str) -> io::Result<String> {
    let stages: Vec<String> = command
        .split(" | ")
        .map(|stage| {
            let run = walkthrough::cargo_run(stage.trim()).map_err(io::Error::other)?;
            Ok(match run {
                None => stage.to_owned(),
                Some(CargoRun {
                    target: Target::Bin(bin),
                    arguments,
                    ..
                }) => format!("{bin} {arguments}"),
                Some(CargoRun {
                    package,
                    target: Target::Example(name),
                    features,
                    arguments,
                }) => {
                    let path = docs::binaries::current_example(&package, &name, &features)
                        .map_err(io::Error::other)?;
                    format!("{} {arguments}", quoted(&path.to_string_lossy()))
                }
            })
        })
        .collect::<io::Result<_>>()?;
    Ok(stages.join(" | "))
}

/// `text` as one word of bash: in single quotes, each `'` written `'\''`.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether `pid` looks like a receiver that finished its setup.
fn is_ready(pid: u32) -> bool {
    let sockets = socket_inodes(pid);
    if sockets.is_empty() {
        return false;
    }
    let bound = ["udp", "udp6"].iter().any(|table| {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            return false;
        };
        text.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port_set = fields.get(1).is_some_and(|local| !local.ends_with(":0000"));
            let ours = fields
                .get(9)
                .and_then(|inode| inode.parse::<u64>().ok())
                .is_some_and(|i| sockets.contains(&i));
            port_set && ours
        })
    });
    bound && waiting_for_input(pid)
}

fn socket_inodes(pid: u32) -> BTreeSet<u64> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// Whether one of the threads of `pid` is blocked in a system call that waits for input.
fn waiting_for_input(pid: u32) -> bool {
    let waiting: &[libc::c_long] = &[
        libc::SYS_recvfrom,
        libc::SYS_recvmsg,
        libc::SYS_recvmmsg,
        libc::SYS_read,
        libc::SYS_ppoll,
        libc::SYS_pselect6,
        libc::SYS_epoll_pwait,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_poll,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_select,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_epoll_wait,
    ];
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.filter_map(Result::ok).any(|task| {
        let Ok(syscall) = std::fs::read_to_string(task.path().join("syscall")) else {
            return false;
        };
        let number = syscall
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<libc::c_long>().ok());
        let state = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state letter follows the command name in parentheses: S means sleeping.
        let sleeping = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('S'));
        sleeping && number.is_some_and(|n| waiting.contains(&n))
    })
}
