//! Fan-out over loopback, measured (filled in by part 2).
