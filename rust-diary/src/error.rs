//! How the fixed pieces report a failed step: what they were doing, which step failed, and
//! why: the cause is shown in the message, once (it is not also the error's `source()`, which
//! would make a chain printer repeat it), and its kind is the `io::Error`'s kind.
//!
//! The fixed functions return `std::io::Result`, as the diary's do, so that a caller sees
//! the kernel's `ErrorKind` (`AddrInUse`, `InvalidInput`, ...) directly. The context goes
//! inside the `io::Error`:
//! `listening on 224.0.0.123:7645: bind(224.0.0.123:7645) failed: Address already in use (os error 98)`.

use std::error::Error;
use std::io;

/// One failed step, carried inside an `io::Error` of the cause's kind.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {step} failed: {cause}")]
struct StepFailed {
    doing: String,
    step: String,
    cause: Box<dyn Error + Send + Sync>,
}

/// Wraps a failed socket call: `doing` is the whole job (`listening on GROUP`), `step`
/// names the call the kernel refused, the socket2 way (`IP_ADD_MEMBERSHIP`, `bind(ADDR)`).
pub(crate) fn step_failed(doing: &str, step: &str) -> impl FnOnce(io::Error) -> io::Error + use<> {
    let (doing, step) = (doing.to_string(), step.to_string());
    move |source| {
        let kind = source.kind();
        let source = Box::new(source);
        io::Error::new(
            kind,
            StepFailed {
                doing,
                step,
                cause: source,
            },
        )
    }
}

/// A step refused before the kernel was asked, because `cause` (a typed error such as
/// `mcast_vocab::GroupError`) says it cannot work; of kind `InvalidInput`.
pub(crate) fn refused(
    doing: &str,
    step: &str,
    cause: impl Error + Send + Sync + 'static,
) -> io::Error {
    let failed = StepFailed {
        doing: doing.to_string(),
        step: step.to_string(),
        cause: Box::new(cause),
    };
    io::Error::new(io::ErrorKind::InvalidInput, failed)
}

/// Whether a read ended only because the socket's read timeout passed (or a signal came):
/// a loop that polls a stop flag or a deadline reads again.
pub(crate) fn is_quiet(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The context and the kernel's error are in the message, once, and the error keeps the
    /// kernel's kind; no `source()` repeats the cause.
    #[test]
    fn a_failed_step_keeps_its_cause() {
        let error = step_failed("listening on 224.0.0.123:7645", "bind(224.0.0.123:7645)")(
            io::Error::from_raw_os_error(libc::EADDRINUSE),
        );
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let inner = error.get_ref().expect("a custom error");
        assert!(inner.source().is_none(), "the cause would print twice");
        assert_eq!(
            error.to_string(),
            "listening on 224.0.0.123:7645: bind(224.0.0.123:7645) failed: \
             Address already in use (os error 98)"
        );
    }
}
