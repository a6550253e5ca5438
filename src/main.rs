//! The `pgtmp` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    pgtmp::run()
}
