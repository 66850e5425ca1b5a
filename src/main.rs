//! The `brhook` command line. Wiring only: everything it runs lives in the library.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
