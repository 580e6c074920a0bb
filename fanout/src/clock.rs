//! CPU time as the kernel accounts it, the tool's measure of what sending costs.

/// CPU time the calling thread has used, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
/// On loopback this includes the kernel's delivery work done on the sender's behalf.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time the whole process has used, in nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`).
pub fn process_cpu_ns() -> u64 {
    clock_ns(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_ns(clock: nix::time::ClockId) -> u64 {
    // These clocks exist on every Linux; a failure would be a kernel without them.
    let now = nix::time::clock_gettime(clock).expect("CPU-time clocks exist on Linux");
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Work on this thread shows up in both clocks, and neither runs backwards.
    #[test]
    fn cpu_clocks_advance_with_work() {
        let (thread, process) = (thread_cpu_ns(), process_cpu_ns());
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_ns() > thread);
        assert!(process_cpu_ns() > process);
    }
}
