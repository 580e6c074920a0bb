//! Sharing a port between programs on one host: `SO_REUSEADDR` and `SO_REUSEPORT`.

/// Which address-reuse option lets several programs on one host bind the same port.
///
/// Without either, a second `receive` on the host fails with `EADDRINUSE`. On
/// Linux both options make every socket bound to the port get its own copy of
/// each multicast datagram (`SO_REUSEPORT`'s load balancing applies to unicast
/// only). They differ in who may share: `SO_REUSEPORT` only sockets of the same
/// user that all set it; `SO_REUSEADDR` any sockets that all set it. A socket
/// with only one of the two cannot share with a socket that has only the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reuse {
    /// `SO_REUSEADDR`, as the released backchannel gem sets.
    Address,
    /// `SO_REUSEPORT`, as the article's `receive.rb` and client set.
    Port,
    /// Both, so this program can share the port with either original.
    #[default]
    Both,
    /// Neither: the port belongs to the first program that binds it.
    Exclusive,
}

impl Reuse {
    /// Whether this choice sets `SO_REUSEADDR`.
    pub(crate) fn reuse_address(self) -> bool {
        matches!(self, Reuse::Address | Reuse::Both)
    }

    /// Whether this choice sets `SO_REUSEPORT`.
    pub(crate) fn reuse_port(self) -> bool {
        matches!(self, Reuse::Port | Reuse::Both)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each choice sets exactly the options it names, and the default sets both,
    /// so it can share the port with `receive.rb` (`SO_REUSEPORT`) and the gem
    /// (`SO_REUSEADDR`) alike.
    #[test]
    fn each_choice_sets_the_options_it_names_and_the_default_sets_both() {
        let options = |reuse: Reuse| (reuse.reuse_address(), reuse.reuse_port());
        assert_eq!(options(Reuse::Address), (true, false));
        assert_eq!(options(Reuse::Port), (false, true));
        assert_eq!(options(Reuse::Both), (true, true));
        assert_eq!(options(Reuse::Exclusive), (false, false));
        assert_eq!(Reuse::default(), Reuse::Both);
    }
}
