//! `cargo lab`: the workshop's virtual LAN, a shell in every host. See the `lab` crate (`lab/src/lib.rs`).

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use clap::{Args, Parser, Subcommand};
use harness::Capability;
use harness::registry;
use lab::{Lab, Network, Program, Tmux};

/// The workshop's virtual LAN: hosts on a virtual segment, a shell in every host.
///
/// `lab` builds the network out of Linux namespaces (no root needed where unprivileged user
/// namespaces are allowed) and, with tmux installed and a terminal, opens a tmux window per
/// host, each a shell inside that host with the workspace's programs on PATH. Without tmux
/// (or with --no-tmux) it prints how to reach each host and reads `HOST COMMAND...` lines from
/// its input (or --run FILE), running each command line in that host.
///
/// Leaving the first host's shell (in tmux, detaching too), Ctrl-C or the end of input
/// without tmux, SIGTERM or SIGKILL of the lab ends everything it made: every process in
/// every host, every namespace, its tmux session.
///
/// With --web it also serves a live view of the lab on http://127.0.0.1:PORT/ (memberships,
/// multicast flows, packet counters; JSON at /state, server-sent events at /events) and
/// prints the address; `lab web` serves it for a lab already running.
///
/// When run by cargo (`cargo lab`), it first builds the workspace's programs (`cargo build
/// --workspace --bins`), so the ones a lab shell finds on PATH are current.
#[derive(Parser)]
#[command(
    version,
    name = "lab",
    args_conflicts_with_subcommands = true,
    subcommand_precedence_over_arg = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
    #[command(flatten)]
    start: Start,
}

#[derive(Args)]
struct Start {
    /// Host names; host k gets 10.0.0.k and fd00::k on eth0 [default: a b c]
    hosts: Vec<String>,
    /// Two segments (a1 a2: 10.0.1.0/24, b1 b2: 10.0.2.0/24) and a multicast router, `router`
    #[arg(long, conflicts_with = "sandbox")]
    routed: bool,
    /// With --routed: let the router forward datagrams from SOURCE to GROUP (repeatable)
    /// [default: 10.0.1.1,224.3.29.71]
    #[arg(long, value_name = "SOURCE,GROUP", requires = "routed")]
    forward: Vec<String>,
    /// One host, `sandbox`: IPv4 multicast over lo, IPv6 over eth0
    #[arg(long)]
    sandbox: bool,
    /// Do not open tmux: print how to reach each host and read commands
    #[arg(long)]
    no_tmux: bool,
    /// Run the `HOST COMMAND...` lines of FILE, then end the lab; the first line that fails
    /// ends it early, with that line's status (as `bash -e` would)
    #[arg(long, value_name = "FILE")]
    run: Option<PathBuf>,
    /// Do not build the workspace's programs first (when run by cargo)
    #[arg(long)]
    no_build: bool,
    /// Serve a live web view of the lab (memberships, flows, counters) and print its address
    #[arg(long)]
    web: bool,
    #[command(flatten)]
    listen: Listen,
}

#[derive(Args, Clone)]
struct Listen {
    /// With --web: the address the web view listens on [default: 127.0.0.1:0, a free port
    /// on this machine only]. Another address (0.0.0.0:8080 for a classroom) shows everything
    /// the lab sees to anyone who can reach it
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
}

#[derive(Args, Clone)]
struct Which {
    /// The lab to use, by id (needed only when several are running)
    #[arg(long = "lab", value_name = "ID")]
    lab: Option<String>,
    /// The lab or paused test to use, by process id
    #[arg(long, value_name = "PID", conflicts_with = "lab")]
    pid: Option<u32>,
}

#[derive(Subcommand)]
enum Sub {
    /// Open a shell in a host of the running lab
    Shell {
        #[command(flatten)]
        which: Which,
        /// The host
        host: String,
    },
    /// Run one command in a host of the running lab; its exit status is passed through
    Exec {
        #[command(flatten)]
        which: Which,
        /// The host
        host: String,
        /// The command and its arguments (no shell: use `bash -c '...'` for one)
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<OsString>,
    },
    /// Record what crosses an interface of a host into a pcap file (tcpdump, tshark, Wireshark)
    Capture {
        #[command(flatten)]
        which: Which,
        /// The host
        host: String,
        /// The interface, e.g. eth0
        interface: String,
        /// The pcap file to write
        #[arg(short = 'w', value_name = "FILE")]
        write: PathBuf,
        /// Stop after this many frames
        #[arg(short = 'c', long, value_name = "N")]
        count: Option<usize>,
    },
    /// Serve the live web view of a running lab (or of a test paused with HARNESS_PAUSE=1)
    /// until it ends; with --bench, measure what the view costs instead
    Web {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        listen: Listen,
        /// Measure: a flood from a to b in a lab of its own, with and without the web view
        /// (and an open page) in the same run: delivery rates, page updates a second, the
        /// lab's memory
        #[arg(long, conflicts_with_all = ["lab", "pid"])]
        bench: bool,
        /// With --bench: datagrams in each flood
        #[arg(long, default_value_t = 100_000, requires = "bench")]
        datagrams: u64,
        /// With --bench: rounds of each (alternating without and with)
        #[arg(long, default_value_t = 3, requires = "bench",
              value_parser = clap::value_parser!(u16).range(1..))]
        rounds: u16,
    },
    /// Check that this machine can run the lab: build a two-host LAN, send one datagram from a
    /// to b, and say what was used (root or a user namespace) or what blocks it
    Check,
    /// List the running labs
    List,
    /// Measure: from `lab a b c` to three ready prompts, and one attach (`lab exec`)
    Bench {
        /// How many runs of each
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
        runs: u16,
        /// Start the labs with `cargo lab a b c` (cargo's start-up and its up-to-date check
        /// included) instead of this binary with --no-build
        #[arg(long)]
        cargo: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => start(cli.start),
        Some(Sub::Shell { which, host }) => {
            choose(&which).and_then(|entry| Ok(lab::attach(&entry, &host, Program::Shell)?))
        }
        Some(Sub::Exec {
            which,
            host,
            command,
        }) => {
            choose(&which).and_then(|entry| Ok(lab::attach(&entry, &host, Program::Argv(command))?))
        }
        Some(Sub::Capture {
            which,
            host,
            interface,
            write,
            count,
        }) => choose(&which).and_then(|entry| {
            let n = lab::capture(&entry, &host, &interface, &write, count)?;
            eprintln!("{n} frame(s) written to {}", write.display());
            Ok(0)
        }),
        Some(Sub::Web {
            which,
            listen,
            bench,
            datagrams,
            rounds,
        }) => {
            if bench {
                web_bench(datagrams, usize::from(rounds))
            } else {
                listen_options(&listen).and_then(|options| {
                    let entry = choose(&which)?;
                    Ok(lab::web::serve_running(&entry, options, |url| {
                        println!("web view of lab {}: {url}", entry.id);
                    })?)
                })
            }
        }
        Some(Sub::Check) => check(),
        Some(Sub::List) => list(),
        Some(Sub::Bench { runs, cargo }) => bench(usize::from(runs), cargo),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        // Each error's `Display` already shows its cause: printed without `{:#}`, on one line.
        Err(message) => {
            eprintln!("lab: {message}");
            ExitCode::from(2)
        }
    }
}

/// `lab check`: the whole path a workshop needs (namespaces, a bridge, multicast from one host
/// to another, the lab's process namespace), tried once, in a throwaway lab.
fn check() -> Result<i32> {
    let root = nix::unistd::geteuid().is_root();
    lab::become_root_in_user_namespace();
    let how = if root {
        "as root".to_owned()
    } else {
        "as an ordinary user, in a user namespace of its own".to_owned()
    };
    let lab = Lab::new(Network::Lan(vec!["a".into(), "b".into()]))
        .map_err(|e| anyhow!("this machine cannot run the lab: {e}"))?;
    let group = harness::Group::ipv4(Ipv4Addr::new(239, 1, 2, 3), 5000);
    let on_b = lab
        .host("b")
        .and_then(|b| b.listen(group))
        .map_err(|e| anyhow!("joining a group in host b failed: {e}"))?;
    lab.host("a")
        .map_err(|e| anyhow!("{e}"))?
        .run(|| {
            let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
            socket.send_to(b"check", group.socket_addr())
        })
        .map_err(|e| anyhow!("sending from host a failed: {e}"))?;
    let got = on_b
        .expect(1)
        .within(Duration::from_secs(2))
        .map_err(|e| anyhow!("host b did not receive host a's datagram: {e}"))?;
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ok: this machine can run the lab ({how}): host a's datagram to {group} reached host b \
         on {} from {}",
        got[0].interface.name, got[0].source
    );
    let _ = writeln!(
        out,
        "\nWhat this machine can do (each tried once, in a throwaway namespace):"
    );
    for capability in Capability::ALL {
        let here = match capability.check() {
            Ok(()) => "yes",
            Err(_) => "NO",
        };
        let _ = writeln!(
            out,
            "  {here:<3}  {:<15} {} ({})",
            capability.id(),
            capability.title(),
            capability.provided_by()
        );
        let _ = writeln!(out, "       {:<15} for: {}", "", capability.enables());
    }
    let _ = writeln!(out, "\nLab shapes this machine can open:");
    let shapes = [
        ("cargo lab [HOST...]", Network::Lan(vec!["a".into()])),
        ("cargo lab --sandbox", Network::Sandbox),
        (
            "cargo lab --routed",
            Network::Routed {
                first: Vec::new(),
                second: Vec::new(),
                forward: Vec::new(),
            },
        ),
    ];
    for (shape, network) in shapes {
        let _ = match can_open(&network) {
            Ok(()) => writeln!(out, "  yes  {shape}"),
            Err(why) => writeln!(out, "  NO   {shape}: {why}"),
        };
    }
    // Written once, so that `lab check | head` ends quietly.
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(0)
}

/// What a lab of this shape needs from the kernel, as [`Capability`]s.
fn needs(network: &Network) -> &'static [Capability] {
    match network {
        Network::Sandbox => &[Capability::Sandbox, Capability::Ifb],
        Network::Routed { .. } => &[
            Capability::Sandbox,
            Capability::Veth,
            Capability::Bridge,
            Capability::Ipv4Routing,
        ],
        _ => &[Capability::Sandbox, Capability::Veth, Capability::Bridge],
    }
}

/// `Ok` where this machine can build a lab of this shape; else one line saying what it lacks
/// and what provides it.
fn can_open(network: &Network) -> Result<()> {
    for capability in needs(network) {
        if let Err(e) = capability.check() {
            return Err(anyhow!("{e}"));
        }
    }
    Ok(())
}

fn choose(which: &Which) -> Result<registry::Entry> {
    Ok(registry::choose(which.lab.as_deref(), which.pid)?)
}

fn list() -> Result<i32> {
    let labs = registry::running().map_err(|e| anyhow!("reading the lab registry: {e}"))?;
    for entry in labs {
        let hosts: Vec<String> = entry
            .hosts
            .iter()
            .map(|h| format!("{} {}", h.name, h.ipv4))
            .collect();
        println!("{}  pid {}  {}", entry.id, entry.pid, hosts.join(", "));
    }
    Ok(0)
}

/// What the lab is told while it runs.
enum Event {
    Signal,
    Done(i32),
}

fn network(start: &Start) -> Result<Network> {
    if start.sandbox {
        if !start.hosts.is_empty() {
            return Err(anyhow!(
                "--sandbox takes no host names (its one host is `sandbox`)"
            ));
        }
        return Ok(Network::Sandbox);
    }
    if start.routed {
        if !start.hosts.is_empty() {
            return Err(anyhow!(
                "--routed takes no host names (its hosts are a1 a2, b1 b2 and router)"
            ));
        }
        let mut forward = Vec::new();
        for pair in &start.forward {
            let parsed = pair.split_once(',').and_then(|(s, g)| {
                Some((
                    s.trim().parse::<Ipv4Addr>().ok()?,
                    g.trim().parse::<Ipv4Addr>().ok()?,
                ))
            });
            forward.push(parsed.ok_or_else(|| {
                anyhow!("--forward {pair:?}: expected SOURCE,GROUP, e.g. 10.0.1.1,224.3.29.71")
            })?);
        }
        if forward.is_empty() {
            forward.push((Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(224, 3, 29, 71)));
        }
        return Ok(Network::Routed {
            first: vec!["a1".into(), "a2".into()],
            second: vec!["b1".into(), "b2".into()],
            forward,
        });
    }
    let hosts = if start.hosts.is_empty() {
        vec!["a".into(), "b".into(), "c".into()]
    } else {
        start.hosts.clone()
    };
    if hosts.len() > 254 {
        return Err(anyhow!(
            "{} hosts: a lab has at most 254 (10.0.0.1 to 10.0.0.254)",
            hosts.len()
        ));
    }
    for (i, name) in hosts.iter().enumerate() {
        let valid = !name.is_empty()
            && name.len() <= 32
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !name.starts_with('-');
        if !valid {
            return Err(anyhow!(
                "host name {name:?}: use up to 32 letters, digits, `-` and `_`"
            ));
        }
        if hosts[..i].contains(name) {
            return Err(anyhow!("host name {name:?} is given twice"));
        }
    }
    Ok(Network::Lan(hosts))
}

/// Starts building the workspace's programs when run by cargo (`cargo lab`), so that a lab
/// shell finds current ones on PATH. It runs while the network is built; [`finish_build`]
/// waits for it before any shell opens.
fn start_build() -> Result<Option<std::process::Child>> {
    let (Some(cargo), Some(manifest)) = (
        std::env::var_os("CARGO"),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) else {
        return Ok(None);
    };
    Command::new(&cargo)
        .args(["build", "--quiet", "--workspace", "--bins"])
        .current_dir(manifest)
        .stdin(Stdio::null())
        .spawn()
        .map(Some)
        .map_err(|e| anyhow!("running cargo build: {e}"))
}

fn finish_build(build: Option<std::process::Child>) -> Result<()> {
    let Some(mut build) = build else {
        return Ok(());
    };
    let status = build
        .wait()
        .map_err(|e| anyhow!("waiting for cargo build: {e}"))?;
    if !status.success() {
        return Err(anyhow!(
            "cargo build --workspace --bins failed (its errors are above)"
        ));
    }
    Ok(())
}

fn start(start: Start) -> Result<i32> {
    let network = network(&start)?;
    // Read before anything is built: a script that cannot be read is known at once.
    let script = match &start.run {
        Some(path) => Some(Script::read(path)?),
        None => None,
    };
    // Checked before anything is built too, and on a machine that cannot open a lab.
    if start.listen.listen.is_some() && !start.web {
        return Err(anyhow!("--listen is for the web view: add --web"));
    }
    let options = listen_options(&start.listen)?;
    // The build runs outside the lab's user namespace: what it writes is plainly the user's.
    let build = if start.no_build { None } else { start_build()? };
    lab::become_root_in_user_namespace();
    if let Err(why) = can_open(&network) {
        if let Some(mut build) = build {
            let _ = build.kill();
            let _ = build.wait();
        }
        return Err(anyhow!(
            "cannot open this lab: {why}; `cargo lab check` lists what this machine can do"
        ));
    }
    let (events, happened) = mpsc::channel();
    watch_signals(events.clone())?;
    let mut lab = Lab::new(network).map_err(|e| anyhow!("cannot start the lab: {e}"))?;
    finish_build(build)?;
    let web = if start.web {
        let observer = lab::observe::Observer::start(lab.entry())
            .map_err(|e| anyhow!("starting the web view: {e}"))?;
        let server = lab::web::Server::start(std::sync::Arc::new(observer), options)
            .map_err(|e| anyhow!("starting the web view: {e}"))?;
        Some(server)
    } else {
        None
    };
    let executable = executable()?;
    let tmux = Tmux::find()
        .filter(|_| !start.no_tmux && start.run.is_none() && std::io::stdin().is_terminal());
    if let Some(program) = tmux {
        let status = web
            .as_ref()
            .map(|server| format!("web view {}", server.url()));
        if let Some(status) = &status {
            println!("{status}");
        }
        let (session, mut client) = Tmux::start(&mut lab, &program, &executable, status.as_deref())
            .map_err(|e| anyhow!("starting tmux: {e}"))?;
        let events = events.clone();
        std::thread::spawn(move || {
            let code = client.wait().ok().and_then(|s| s.code()).unwrap_or(1);
            let _ = events.send(Event::Done(code));
        });
        if let Ok(Event::Signal) = happened.recv() {
            // Let tmux end first, so that its client puts the terminal back as it was
            // (killed outright, it would leave the terminal in tmux's modes).
            let _ = session
                .command()
                .arg("kill-server")
                .stderr(Stdio::null())
                .status();
            let _ = happened.recv_timeout(Duration::from_secs(2));
        }
        let id = lab.id().to_owned();
        // The observer's threads are inside the hosts: they go first.
        drop(web);
        lab.end();
        eprintln!("lab {id} ended");
        return Ok(0);
    }

    print_hosts(&lab);
    if let Some(server) = &web {
        println!("web view: {}", server.url());
    }
    let lab = Arc::new(lab);
    {
        let lab = lab.clone();
        std::thread::spawn(move || {
            let code = command_loop(&lab, script);
            let _ = events.send(Event::Done(code));
        });
    }
    let code = match happened.recv() {
        Ok(Event::Done(code)) => code,
        Ok(Event::Signal) | Err(_) => 0,
    };
    let id = lab.id().to_owned();
    drop(web);
    lab.stop();
    eprintln!("lab {id} ended");
    // The command thread may still hold the lab; everything it made is gone already.
    std::process::exit(code)
}

/// Where the web view listens: `--listen`, or 127.0.0.1 on a free port. Any other address
/// than loopback gets a warning, since the page shows everything the lab sees.
fn listen_options(listen: &Listen) -> Result<lab::web::Options> {
    let mut options = lab::web::Options::default();
    if let Some(address) = &listen.listen {
        options.listen = address.parse().map_err(|_| {
            anyhow!(
                "--listen {address:?}: expected ADDRESS:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"
            )
        })?;
        if !options.listen.ip().is_loopback() {
            eprintln!(
                "lab: warning: the web view listens on {}: anyone who can reach it sees \
                 everything the lab sees (memberships, addresses, payloads)",
                options.listen
            );
        }
    }
    Ok(options)
}

/// `lab web --bench`: see `lab::web::bench`.
fn web_bench(datagrams: u64, rounds: usize) -> Result<i32> {
    lab::become_root_in_user_namespace();
    let report = lab::web::bench::run(datagrams, rounds).map_err(|e| anyhow!("{e}"))?;
    print!("{report}");
    Ok(0)
}

/// This program's path. When `cargo lab`'s build re-linked it while it ran, `/proc/self/exe`
/// says `PATH (deleted)`: the file now at PATH is the same program, freshly linked.
fn executable() -> Result<PathBuf> {
    let path = std::env::current_exe().map_err(|e| anyhow!("finding lab itself: {e}"))?;
    let text = path.to_string_lossy();
    Ok(match text.strip_suffix(" (deleted)") {
        Some(original) => PathBuf::from(original),
        None => path,
    })
}

/// The write end of the pipe that signal handlers write the signal's number to.
static SIGNAL_PIPE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe; the descriptor stays open for the process's life.
    unsafe {
        libc::write(
            SIGNAL_PIPE.load(std::sync::atomic::Ordering::Relaxed),
            (&byte as *const u8).cast(),
            1,
        )
    };
}

/// Turns SIGINT, SIGTERM and SIGHUP into an [`Event::Signal`]. Handlers rather than a blocked
/// mask: a blocked mask would be inherited by every program the lab starts (tmux included),
/// while handlers are reset by `exec`.
fn watch_signals(events: mpsc::Sender<Event>) -> Result<()> {
    let (read, write) = nix::unistd::pipe().map_err(|e| anyhow!("creating a pipe: {e}"))?;
    SIGNAL_PIPE.store(
        std::os::fd::IntoRawFd::into_raw_fd(write),
        std::sync::atomic::Ordering::Relaxed,
    );
    // SAFETY: installing an async-signal-safe handler.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
    std::thread::spawn(move || {
        let mut byte = [0u8];
        let mut file = std::fs::File::from(read);
        if std::io::Read::read_exact(&mut file, &mut byte).is_ok() {
            let _ = events.send(Event::Signal);
        }
    });
    Ok(())
}

fn print_hosts(lab: &Lab) {
    let several = registry::running().map_or(true, |labs| labs.len() > 1);
    let flag = if several {
        format!(" --lab {}", lab.id())
    } else {
        String::new()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "lab {} is ready (pid {}):",
        lab.id(),
        std::process::id()
    );
    for host in lab.hosts() {
        let _ = writeln!(
            out,
            "  {:<8} {:<12} {:<15} cargo lab shell{flag} {}",
            host.name(),
            host.ipv4(),
            host.ipv6(),
            host.name()
        );
    }
    let _ = writeln!(
        out,
        "Run `cargo lab exec{flag} HOST -- COMMAND` from another terminal, or type `HOST COMMAND` \
         lines here. Ctrl-C (or the end of input) ends the lab."
    );
    let _ = out.flush();
}

/// A `--run` file, read whole before the lab is built.
struct Script {
    path: PathBuf,
    text: String,
}

impl Script {
    fn read(path: &std::path::Path) -> Result<Script> {
        let text =
            std::fs::read_to_string(path).map_err(|e| anyhow!("--run {}: {e}", path.display()))?;
        Ok(Script {
            path: path.to_owned(),
            text,
        })
    }
}

/// Reads `HOST COMMAND...` lines and runs each command line with `bash -c` in its host, in
/// turn. From standard input: every line, and the status of the last one. From a `--run`
/// script: up to the first line that fails (as `bash -e` would), which is named, and its
/// status; 0 when every line succeeded.
fn command_loop(lab: &Lab, script: Option<Script>) -> i32 {
    let input: Box<dyn BufRead + '_> = match &script {
        Some(script) => Box::new(script.text.as_bytes()),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut last = 0;
    for (number, line) in (1..).zip(input.lines()) {
        if let Some(script) = &script
            && last != 0
        {
            eprintln!(
                "lab: {}:{}: exited with status {last}; the rest of the script is not run",
                script.path.display(),
                number - 1
            );
            return last;
        }
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("lab: reading line {number}: {e}");
                return 2;
            }
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (host, command_line) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if lab.entry().host(host).is_err() || command_line.trim().is_empty() {
            let names: Vec<&str> = lab.entry().hosts.iter().map(|h| h.name.as_str()).collect();
            eprintln!(
                "lab: expected `HOST COMMAND...` with HOST one of {}, got {line:?}",
                names.join(", ")
            );
            last = 2;
            continue;
        }
        let mut command = lab.command(host, "bash");
        command.arg("-c").arg(command_line).stdin(Stdio::null());
        last = match lab.spawn(host, &mut command).and_then(|mut child| {
            child
                .wait()
                .map_err(|e| harness::Error::Invalid(e.to_string()))
        }) {
            Ok(status) => status.code().unwrap_or(128),
            Err(e) => {
                eprintln!("lab: {e}");
                2
            }
        };
    }
    last
}

/// `lab bench`: medians of starting `lab a b c` in tmux until three prompts show, and of one
/// `lab exec` into a running lab.
/// How often the bench looks at the windows: each look is a `tmux capture-pane` process,
/// which competes with the lab for the CPUs, so not too often.
const POLL: Duration = Duration::from_millis(5);

fn bench(runs: usize, via_cargo: bool) -> Result<i32> {
    let executable = executable()?;
    let program = Tmux::find().ok_or_else(|| anyhow!("lab bench needs tmux"))?;
    let dir = std::env::temp_dir().join(format!("lab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| anyhow!("{e}"))?;
    let start_command = if via_cargo {
        let cargo = std::env::var("CARGO")
            .map_err(|_| anyhow!("--cargo: run me with `cargo lab bench`"))?;
        let workspace = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| anyhow!("{e}"))?;
        format!("cd {workspace}/.. && {cargo} lab a b c")
    } else {
        format!("{} --no-build a b c", executable.display())
    };
    let mut start_times = Vec::new();
    let mut attach_times = Vec::new();
    let result = (|| -> Result<()> {
        for run in 0..runs {
            let registry_dir = dir.join(format!("run{run}"));
            // A terminal for the lab: a tmux server of the bench's own, one per run.
            let outer = dir.join(format!("outer{run}.tmux"));
            std::fs::create_dir_all(&registry_dir).map_err(|e| anyhow!("{e}"))?;
            let began = Instant::now();
            let status = Command::new(&program)
                .arg("-S")
                .arg(&outer)
                .args(["new-session", "-d", "-x", "120", "-y", "40", "-s", "bench"])
                .arg("-e")
                .arg(format!("HARNESS_LAB_DIR={}", registry_dir.display()))
                .arg(&start_command)
                .status()
                .map_err(|e| anyhow!("{e}"))?;
            if !status.success() {
                return Err(anyhow!("tmux new-session failed"));
            }
            let until = Instant::now() + Duration::from_secs(20);
            // The lab registers before it starts tmux; then each window shows its prompt.
            let entry = loop {
                let labs = registry::running_in(&registry_dir).unwrap_or_default();
                if let Some(entry) = labs.into_iter().find(|e| e.tmux.is_some()) {
                    break entry;
                }
                if Instant::now() > until {
                    return Err(anyhow!("the lab did not start within 20 s"));
                }
                std::thread::sleep(POLL);
            };
            let socket = entry.tmux.clone().expect("found with tmux");
            for (k, host) in ["a", "b", "c"].iter().enumerate() {
                let prompt = format!("{host} 10.0.0.{} $", k + 1);
                loop {
                    let shown = Command::new(&program)
                        .arg("-S")
                        .arg(&socket)
                        .args(["capture-pane", "-p", "-t"])
                        .arg(format!("lab-{}:{host}", entry.id))
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default();
                    if shown.contains(&prompt) {
                        break;
                    }
                    if Instant::now() > until {
                        return Err(anyhow!("no prompt in {host}'s window within 20 s"));
                    }
                    std::thread::sleep(POLL);
                }
            }
            start_times.push(began.elapsed());
            for _ in 0..3 {
                let began = Instant::now();
                let status = Command::new(&executable)
                    .env("HARNESS_LAB_DIR", &registry_dir)
                    .args(["exec", "--lab", &entry.id, "b", "--", "true"])
                    .status()
                    .map_err(|e| anyhow!("{e}"))?;
                attach_times.push(began.elapsed());
                if !status.success() {
                    return Err(anyhow!("lab exec b -- true failed"));
                }
            }
            // End the lab the way a person does: leave the first shell.
            let _ = Command::new(&program)
                .arg("-S")
                .arg(&socket)
                .args(["send-keys", "-t"])
                .arg(format!("lab-{}:a", entry.id))
                .args(["exit", "Enter"])
                .status();
            let until = Instant::now() + Duration::from_secs(10);
            while entry.alive() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = Command::new(&program)
                .arg("-S")
                .arg(&outer)
                .arg("kill-server")
                .stderr(Stdio::null())
                .status();
        }
        Ok(())
    })();
    // Whatever a failed run left: every outer server, by its socket.
    for run in 0..runs {
        let _ = Command::new(&program)
            .arg("-S")
            .arg(dir.join(format!("outer{run}.tmux")))
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let what = if via_cargo {
        "cargo lab a b c to three prompts"
    } else {
        "lab a b c to three prompts (tmux)"
    };
    report(what, start_times);
    report("lab exec b -- true (attach)", attach_times);
    Ok(0)
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<36} median {:>9.1?}   p10 {:>9.1?}   p90 {:>9.1?}   ({} runs)",
        at(0.5),
        at(0.1),
        at(0.9),
        samples.len()
    );
}
