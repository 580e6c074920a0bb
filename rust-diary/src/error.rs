//! How the fixed pieces report a failed step: what they were doing, which step failed, and
//! why, with the cause kept as the error's source (so its `errno` is never lost).
//!
//! The fixed functions return `std::io::Result`, as the diary's do, so that a caller sees
//! the kernel's `ErrorKind` (`AddrInUse`, `InvalidInput`, ...) directly. The context goes
//! inside the `io::Error`:
//! `listening on 224.0.0.123:7645: bind(224.0.0.123:7645) failed: Address already in use (os error 98)`.

use std::error::Error;
use std::io;

/// One failed step, carried inside an `io::Error` of the cause's kind.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {step} failed: {source}")]
struct StepFailed {
    doing: String,
    step: String,
    source: Box<dyn Error + Send + Sync>,
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
                source,
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
        source: Box::new(cause),
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

    /// The context is in the message, and the kernel's error stays reachable as the
    /// source, with its kind and its errno.
    #[test]
    fn a_failed_step_keeps_its_cause() {
        let error = step_failed("listening on 224.0.0.123:7645", "bind(224.0.0.123:7645)")(
            io::Error::from_raw_os_error(libc::EADDRINUSE),
        );
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        let cause = error
            .source()
            .and_then(|e| e.downcast_ref::<io::Error>())
            .expect("the kernel's error is the source");
        assert_eq!(cause.raw_os_error(), Some(libc::EADDRINUSE));
        assert_eq!(
            error.to_string(),
            "listening on 224.0.0.123:7645: bind(224.0.0.123:7645) failed: \
             Address already in use (os error 98)"
        );
    }
}
