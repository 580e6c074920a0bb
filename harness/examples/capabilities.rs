//! Prints what this machine can do, one capability a line (what `cargo lab check` shows).
fn main() {
    for c in harness::Capability::ALL {
        match c.check() {
            Ok(()) => println!("yes  {:<15} {}", c.id(), c.title()),
            Err(e) => println!("no   {:<15} {e}", c.id()),
        }
    }
}
