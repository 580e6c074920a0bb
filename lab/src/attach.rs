//! Entering a host of a running lab from another process: `lab shell`, `lab exec`, tmux panes.
//!
//! The lab's namespaces are held by the lab process. Another process of the same user reaches
//! them through `/proc/<lab pid>`, in this order (each step needs the one before):
//! 1. the lab's **user namespace** (`/proc/<pid>/ns/user`), where that user is root and so may
//!    enter the others. Only a single-threaded process may `setns` into a user namespace,
//!    which is why this runs first thing in `main`. (Skipped when we are in it already, as a
//!    tmux pane is, or when the lab runs as real root.)
//! 2. the lab's **PID namespace** (`/proc/<init pid>/ns/pid`): it applies to our children,
//!    not to us, so the program runs in a child we wait for.
//! 3. the host's **network namespace**, `/proc/<pid>/fd/<fd>` (a descriptor the lab holds).
//!
//! The child is in the lab's PID namespace, so when the lab ends the kernel kills it; we
//! notice, say that the lab ended, and exit.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

use nix::sched::{CloneFlags, setns};

use harness::registry::{Entry, HostEntry, NoSuchHost};

/// Why [`attach`] or [`capture`] could not enter a host, or could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// The lab has no host of that name.
    #[error(transparent)]
    NoSuchHost(#[from] NoSuchHost),
    /// The lab's process is gone (or its pid now names another process).
    #[error("lab {lab} ended")]
    LabEnded {
        /// The lab's id.
        lab: String,
    },
    /// The lab's descriptor for the host is not a network namespace (a stale entry).
    #[error("lab {lab}: host {host} is not a network namespace")]
    NotANamespace {
        /// The lab's id.
        lab: String,
        /// The host's name.
        host: String,
    },
    /// The lab's user namespace refused us: it belongs to another user.
    #[error(
        "entering lab {lab}'s user namespace: {cause} (a lab started by another user, or by \
         root, can only be entered by that user or root)"
    )]
    ForeignLab {
        /// The lab's id.
        lab: String,
        /// What `setns(2)` said.
        cause: io::Error,
    },
    /// `lab exec` without a command.
    #[error("no command given (lab exec HOST -- COMMAND...)")]
    NoCommand,
    /// The capture could not start in the host.
    #[error("host {host}: {cause}")]
    Capture {
        /// The host's name.
        host: String,
        /// Why the capture could not start there.
        cause: Box<AttachError>,
    },
    /// The harness could not open the capture.
    #[error(transparent)]
    Harness(#[from] harness::Error),
    /// The thread that opens the capture in the host panicked.
    #[error("the capture thread panicked")]
    CaptureThreadPanicked,
    /// A system call failed; `doing` says what it was for (`opening /proc/7/ns/user`).
    #[error("{doing}: {cause}")]
    Io {
        /// What failed, naming the file, namespace or program.
        doing: String,
        /// What the kernel said.
        cause: io::Error,
    },
}

/// Wraps an I/O failure with what it was doing, as [`AttachError::Io`].
fn doing<T, E: Into<io::Error>>(
    result: Result<T, E>,
    doing: impl FnOnce() -> String,
) -> Result<T, AttachError> {
    result.map_err(|cause| AttachError::Io {
        doing: doing(),
        cause: cause.into(),
    })
}

fn open(path: String) -> Result<File, AttachError> {
    doing(File::open(&path), || format!("opening {path}"))
}

/// What to run in the host.
#[derive(Clone, Debug)]
pub enum Program {
    /// An interactive `bash` with the lab's prompt.
    Shell,
    /// A program and its arguments, run directly (no shell), like `ip netns exec`.
    Argv(Vec<OsString>),
}

/// Sets the lab's environment on `command`: `PATH` led by the lab's programs, `LAB_ID`,
/// `LAB_HOST` and the prompt `PS1` (`b 10.0.0.2 $ `).
pub(crate) fn set_environment(command: &mut Command, entry: &Entry, host: &HostEntry) {
    let mut path = OsString::from(&entry.bin);
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    command
        .env("PATH", path)
        .env("LAB_ID", &entry.id)
        .env("LAB_HOST", &host.name)
        .env("PS1", format!("{} {} $ ", host.name, host.ipv4))
        .env_remove("TMUX")
        .env_remove("TMUX_PANE");
}

/// A pidfd for `pid` (`pidfd_open(2)`), which becomes readable when the process ends.
fn pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// Whether the process behind `pidfd` ends within a second.
fn ends_soon(pidfd: Option<&OwnedFd>) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let Some(pidfd) = pidfd else { return false };
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::from(1000u16)).is_ok_and(|n| n > 0)
}

fn inode(path: &str) -> Option<u64> {
    nix::sys::stat::stat(path).ok().map(|s| s.st_ino)
}

fn file_inode(file: &File) -> Option<u64> {
    nix::sys::stat::fstat(file).ok().map(|s| s.st_ino)
}

/// Runs `program` in host `host` of the lab `entry` and returns the exit code to leave with
/// (the program's, or 128 + signal). Call it while the process has one thread.
pub fn attach(entry: &Entry, host: &str, program: Program) -> Result<i32, AttachError> {
    let target = entry.host(host)?.clone();
    let lab_ended = || AttachError::LabEnded {
        lab: entry.id.clone(),
    };
    let user = open(format!("/proc/{}/ns/user", entry.pid))?;
    let net = open(format!("/proc/{}/fd/{}", entry.pid, target.fd))?;
    let pid = match entry.init {
        0 => None,
        init => Some(open(format!("/proc/{init}/ns/pid"))?),
    };
    // The pid may have been recycled between reading the registry and opening its files.
    if !entry.alive() {
        return Err(lab_ended());
    }
    let link = doing(
        std::fs::read_link(format!("/proc/{}/fd/{}", entry.pid, target.fd)),
        || format!("reading host {host}'s namespace"),
    )?;
    if !link.to_string_lossy().starts_with("net:[") {
        return Err(AttachError::NotANamespace {
            lab: entry.id.clone(),
            host: host.to_owned(),
        });
    }

    if file_inode(&user) != inode("/proc/self/ns/user") {
        setns(&user, CloneFlags::CLONE_NEWUSER).map_err(|e| AttachError::ForeignLab {
            lab: entry.id.clone(),
            cause: e.into(),
        })?;
    }
    let mut fork = false;
    if let Some(pid) = &pid
        && file_inode(pid) != inode("/proc/self/ns/pid")
    {
        doing(setns(pid, CloneFlags::CLONE_NEWPID), || {
            format!("entering lab {}'s PID namespace", entry.id)
        })?;
        fork = true;
    }
    drop((user, pid));
    if !fork {
        // We become the program: enter the host ourselves.
        doing(setns(&net, CloneFlags::CLONE_NEWNET), || {
            format!("entering host {host}'s network namespace")
        })?;
    }

    let mut command = match &program {
        Program::Shell => {
            let mut command = Command::new("bash");
            command.args(["--norc", "-i"]);
            command
        }
        Program::Argv(argv) => {
            let (first, rest) = argv.split_first().ok_or(AttachError::NoCommand)?;
            let mut command = Command::new(first);
            command.args(rest);
            command
        }
    };
    set_environment(&mut command, entry, &target);
    // Only the child enters the host: the lab's clean-up kills whatever it finds in its
    // network namespaces, and this process must live to say that the lab ended.
    let net_fd = std::os::fd::AsRawFd::as_raw_fd(&net);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if fork && libc::setns(net_fd, libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Killed with us: `lab exec` killed means its command is too.
            if fork && libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for signal in [libc::SIGINT, libc::SIGQUIT, libc::SIGTTOU] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let name = match &program {
        Program::Shell => "bash".to_string(),
        Program::Argv(argv) => argv[0].to_string_lossy().into_owned(),
    };
    if !fork {
        // Already in the lab's PID namespace (a tmux pane) or the lab has none: become it.
        let error = command.exec();
        return doing(Err(error), || format!("running {name} in host {host}"));
    }
    let watched = pidfd(if entry.init != 0 {
        entry.init
    } else {
        entry.pid
    });
    // While the child runs, the terminal's signals are for it.
    // SAFETY: setting signal dispositions to ignore; restored in the child by std.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        libc::signal(libc::SIGTTOU, libc::SIG_IGN);
    }
    // The terminal's modes as we found them: a shell killed with its lab (SIGKILL) leaves
    // them as its line editor set them (no echo, no line buffering), which would leave the
    // caller's terminal raw.
    let modes = nix::sys::termios::tcgetattr(std::io::stdin()).ok();
    let status = doing(command.spawn().and_then(|mut child| child.wait()), || {
        format!("running {name} in host {host}")
    })?;
    // An interactive shell took the terminal's foreground; take it back for our caller.
    // SAFETY: plain ioctls on stdin; failures (no terminal) are fine.
    unsafe {
        if libc::isatty(0) == 1 {
            libc::tcsetpgrp(0, libc::getpgrp());
        }
    }
    if let Some(modes) = modes {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &modes,
        );
    }
    // The lab ends by killing its init, which kills everything in its PID namespace: a
    // SIGKILL followed at once by init's end means the lab ended.
    if status.signal() == Some(libc::SIGKILL) && ends_soon(watched.as_ref()) {
        eprintln!("{}", lab_ended());
        return Ok(1);
    }
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Records what crosses `interface` of `host` into the pcap file `path`, until `count` frames
/// were written, the lab ends, or the process is interrupted (every frame is flushed as it
/// is written, so the file is always complete). Returns how many frames it wrote. Call it
/// while the process has one thread. When the capture cannot start (no such host or
/// interface, the lab ended), a file it created is removed again.
pub fn capture(
    entry: &Entry,
    host: &str,
    interface: &str,
    path: &Path,
    count: Option<usize>,
) -> Result<usize, AttachError> {
    let existed = path.exists();
    let mut started = false;
    let result = record(entry, host, interface, path, count, &mut started);
    if result.is_err() && !started && !existed {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Moves this process into the lab's user namespace (step 1 of the module docs), unless it
/// is there already. Call it while the process has one thread.
pub(crate) fn enter_user_namespace(entry: &Entry) -> Result<(), AttachError> {
    let user = open(format!("/proc/{}/ns/user", entry.pid))?;
    if file_inode(&user) != inode("/proc/self/ns/user") {
        setns(&user, CloneFlags::CLONE_NEWUSER).map_err(|e| AttachError::ForeignLab {
            lab: entry.id.clone(),
            cause: e.into(),
        })?;
    }
    Ok(())
}

/// A pidfd for the lab's process, if it is still the lab's (the web view watches it).
#[cfg(feature = "web")]
pub(crate) fn lab_pidfd(entry: &Entry) -> Result<OwnedFd, AttachError> {
    pidfd(entry.pid)
        .filter(|_| entry.alive())
        .ok_or_else(|| AttachError::LabEnded {
            lab: entry.id.clone(),
        })
}

fn record(
    entry: &Entry,
    host: &str,
    interface: &str,
    path: &Path,
    count: Option<usize>,
    started: &mut bool,
) -> Result<usize, AttachError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    let target = entry.host(host)?.clone();
    // Opened before anything else: we write it as ourselves.
    let writing = |path: &Path| format!("writing {}", path.display());
    let file = doing(File::create(path), || {
        format!("creating {}", path.display())
    })?;
    let mut pcap = doing(
        harness::PcapWriter::new(std::io::BufWriter::new(file)),
        || writing(path),
    )?;
    let Some(pidfd) = pidfd(entry.pid).filter(|_| entry.alive()) else {
        return Err(AttachError::LabEnded {
            lab: entry.id.clone(),
        });
    };
    let net = open(format!("/proc/{}/fd/{}", entry.pid, target.fd))?;
    enter_user_namespace(entry)?;
    // Only a helper thread enters the host: this process stays where it was, so the lab's
    // clean-up (which kills processes found in its namespaces) leaves it to finish the file.
    let interface_name = interface.to_owned();
    let opened = std::thread::spawn(move || {
        doing(setns(&net, CloneFlags::CLONE_NEWNET), || {
            "entering the host's network namespace".to_owned()
        })?;
        let index = doing(
            nix::net::if_::if_nametoindex(interface_name.as_str()),
            || format!("no interface {interface_name:?} in the host"),
        )?;
        Ok::<_, AttachError>(harness::Capture::open(&interface_name, index)?)
    })
    .join()
    .map_err(|_| AttachError::CaptureThreadPanicked)?
    .map_err(|cause| AttachError::Capture {
        host: host.to_owned(),
        cause: Box::new(cause),
    })?;
    *started = true;
    eprintln!(
        "capturing on {interface} of host {host} into {}",
        path.display()
    );

    let mut written = 0;
    while count.is_none_or(|c| written < c) {
        let mut fds = [
            PollFd::new(opened.socket(), PollFlags::POLLIN),
            PollFd::new(pidfd.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return doing(Err(e), || "waiting for frames".to_owned()),
            Ok(_) => {}
        }
        let lab_ended = fds[1].any().unwrap_or(false);
        for frame in opened.take_frames() {
            if count.is_some_and(|c| written >= c) {
                break;
            }
            doing(
                pcap.write(frame.time, &frame.bytes)
                    .and_then(|()| pcap.flush()),
                || writing(path),
            )?;
            written += 1;
        }
        if lab_ended {
            eprintln!("lab {} ended", entry.id);
            break;
        }
    }
    Ok(written)
}
