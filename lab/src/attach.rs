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
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

use nix::sched::{CloneFlags, setns};

use harness::registry::{Entry, HostEntry};

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
fn pidfd(pid: u32) -> Option<std::os::fd::OwnedFd> {
    // SAFETY: pidfd_open(2); the descriptor is owned right after.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_int, 0) };
    // SAFETY: a fresh descriptor.
    (fd >= 0).then(|| unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) })
}

/// Whether the process behind `pidfd` ends within a second.
fn ends_soon(pidfd: Option<&std::os::fd::OwnedFd>) -> bool {
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
pub fn attach(entry: &Entry, host: &str, program: Program) -> Result<i32, String> {
    let target = entry.host(host)?.clone();
    let lab_ended = || format!("lab {} ended", entry.id);
    let open = |path: String| File::open(&path).map_err(|e| format!("opening {path}: {e}"));
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
    let link = std::fs::read_link(format!("/proc/{}/fd/{}", entry.pid, target.fd))
        .map_err(|e| format!("reading host {host}'s namespace: {e}"))?;
    if !link.to_string_lossy().starts_with("net:[") {
        return Err(format!(
            "lab {}: host {host} is not a network namespace",
            entry.id
        ));
    }

    if file_inode(&user) != inode("/proc/self/ns/user") {
        setns(&user, CloneFlags::CLONE_NEWUSER).map_err(|e| {
            format!(
                "entering lab {}'s user namespace: {e} (a lab started by another user, or by \
                 root, can only be entered by that user or root)",
                entry.id
            )
        })?;
    }
    let mut fork = false;
    if let Some(pid) = &pid
        && file_inode(pid) != inode("/proc/self/ns/pid")
    {
        setns(pid, CloneFlags::CLONE_NEWPID)
            .map_err(|e| format!("entering lab {}'s PID namespace: {e}", entry.id))?;
        fork = true;
    }
    drop((user, pid));
    if !fork {
        // We become the program: enter the host ourselves.
        setns(&net, CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("entering host {host}'s network namespace: {e}"))?;
    }

    let mut command = match &program {
        Program::Shell => {
            let mut command = Command::new("bash");
            command.args(["--norc", "-i"]);
            command
        }
        Program::Argv(argv) => {
            let (first, rest) = argv
                .split_first()
                .ok_or_else(|| "no command given (lab exec HOST -- COMMAND...)".to_string())?;
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
        return Err(format!("running {name} in host {host}: {error}"));
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
    let status = command
        .spawn()
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("running {name} in host {host}: {e}"))?;
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
    path: &std::path::Path,
    count: Option<usize>,
) -> Result<usize, String> {
    let existed = path.exists();
    let mut started = false;
    let result = record(entry, host, interface, path, count, &mut started);
    if result.is_err() && !started && !existed {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn record(
    entry: &Entry,
    host: &str,
    interface: &str,
    path: &std::path::Path,
    count: Option<usize>,
    started: &mut bool,
) -> Result<usize, String> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    let target = entry.host(host)?.clone();
    // Opened before anything else: we write it as ourselves.
    let file = File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut pcap = harness::PcapWriter::new(std::io::BufWriter::new(file))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    // SAFETY: pidfd_open(2) on the lab's pid; the descriptor is owned right after.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, entry.pid as libc::c_int, 0) };
    if pidfd < 0 || !entry.alive() {
        return Err(format!("lab {} ended", entry.id));
    }
    // SAFETY: fresh descriptor.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    let open = |path: String| File::open(&path).map_err(|e| format!("opening {path}: {e}"));
    let user = open(format!("/proc/{}/ns/user", entry.pid))?;
    let net = open(format!("/proc/{}/fd/{}", entry.pid, target.fd))?;
    if file_inode(&user) != inode("/proc/self/ns/user") {
        setns(&user, CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("entering lab {}'s user namespace: {e}", entry.id))?;
    }
    // Only a helper thread enters the host: this process stays where it was, so the lab's
    // clean-up (which kills processes found in its namespaces) leaves it to finish the file.
    let interface_name = interface.to_owned();
    let opened = std::thread::spawn(move || {
        setns(&net, CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("entering the host's network namespace: {e}"))?;
        let index = nix::net::if_::if_nametoindex(interface_name.as_str())
            .map_err(|e| format!("no interface {interface_name:?} in the host: {e}"))?;
        harness::Capture::open(&interface_name, index).map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "the capture thread panicked".to_string())?
    .map_err(|e| format!("host {host}: {e}"))?;
    drop(user);
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
            Err(e) => return Err(format!("waiting for frames: {e}")),
            Ok(_) => {}
        }
        let lab_ended = fds[1].any().unwrap_or(false);
        for frame in opened.take_frames() {
            if count.is_some_and(|c| written >= c) {
                break;
            }
            pcap.write(frame.time, &frame.bytes)
                .and_then(|()| pcap.flush())
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            written += 1;
        }
        if lab_ended {
            eprintln!("lab {} ended", entry.id);
            break;
        }
    }
    Ok(written)
}
