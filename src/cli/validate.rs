//! `brhook validate FILE...`

use super::output::{emit, ReportArgs};
use brhook::testkit::validate::{validate_with, Input, DEFAULT_MAX_BODY};
use clap::Args as ClapArgs;
use std::io::Read;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Files holding one webhook body each; `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Largest body judged, in bytes; a larger one is a T4 finding.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
    #[command(flatten)]
    report: ReportArgs,
}

fn read(path: &PathBuf, max: usize) -> Result<Input, String> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let limit = max as u64 + 1;
    let r = if name == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        let f = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        f.take(limit).read_to_end(&mut bytes)
    };
    r.map_err(|e| format!("cannot read {name}: {e}"))?;
    let truncated_at = (bytes.len() > max).then_some(max);
    if truncated_at.is_some() {
        bytes.clear();
    }
    Ok(Input {
        source: if name == "-" { "stdin".into() } else { name },
        bytes,
        truncated_at,
    })
}

pub fn run(args: Args) -> Result<i32, String> {
    let inputs = args
        .files
        .iter()
        .map(|p| read(p, args.max_body))
        .collect::<Result<Vec<_>, _>>()?;
    emit(
        &validate_with(&inputs, args.report.strict, args.report.examples),
        &args.report,
    )
}
