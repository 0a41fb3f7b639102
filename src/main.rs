//! The `kpi` binary: parse the command line, run, exit with the code.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A large stack for the recursive stages; inputs are bounded so this is never reached.
    let handle =
        std::thread::Builder::new().stack_size(256 * 1024 * 1024).spawn(move || kpi_rules::cli::run(args));
    let code = match handle {
        Ok(h) => h.join().unwrap_or_else(|_| {
            eprintln!(
                "error: internal error (a bug in kpi); please report it with the command that caused it"
            );
            70
        }),
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            70
        }
    };
    std::process::exit(code);
}
