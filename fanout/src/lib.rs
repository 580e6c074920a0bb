//! Placeholder while the fan-out benchmark moves here from `loopback`.
