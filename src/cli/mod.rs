//! Argument parsing and wiring of the commands.

/// `println!` that ignores a closed stdout (`brhook demo | head`) instead of panicking.
macro_rules! say {
    () => { say!("") };
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod demo;
mod listen;
mod output;
mod validate;

use clap::{Parser, Subcommand};

/// brhook: does this sender really speak BililiveRecorder's webhook protocol?
///
/// Judges webhook bodies and live sender traffic against the documented protocol and
/// the real sender's behaviour. Every finding names a check of the catalogue
/// (`brhook checks`). Exit codes: 0 pass, 1 at least one failure, 2 usage or I/O error.
#[derive(Parser)]
#[command(name = "brhook", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the built-in reference sender against a built-in endpoint and judge it.
    ///
    /// A slow URL (delay), a plain one, a flaky one (fail:2) and a v1 URL receive a
    /// realistic recording session: stream start, a session with three files, v1
    /// records, session end, stream end. `--mutant NAME` runs a broken sender instead.
    ///
    /// Example: brhook demo --mutant sequential
    Demo(demo::Args),
    /// Judge webhook bodies saved in files (`-` reads one body from stdin).
    ///
    /// Each file holds one request body. Checks T4 and S1–S7 run on each; header checks
    /// need a live request (`brhook listen`).
    ///
    /// Example: brhook validate body.json --format json
    Validate(validate::Args),
    /// Serve named URLs, record every request a sender posts, and judge the capture.
    ///
    /// Prints the URLs to paste into the sender's settings, answers each by its fault
    /// plan, and on Ctrl-C (or --until-quiet) judges T, S, D, F and C checks.
    ///
    /// Example: brhook listen --url a --url b=fail:2 --url c=delay:500 --journal cap.jsonl
    Listen(listen::Args),
    /// List the check catalogue: ID, level, status in this version, title and source.
    Checks(output::ChecksArgs),
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Checks(a) => output::checks(a),
        Command::Demo(a) => demo::run(a),
        Command::Listen(a) => listen::run(a),
    };
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("brhook: {msg}");
            2
        }
    }
}
