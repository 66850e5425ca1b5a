//! The report options every judging command shares, and where reports go.

use brhook::testkit::catalog::{Check, CHECKS};
use brhook::testkit::report::{html, junit, text, Report};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Summary first, then findings (colours on a terminal unless NO_COLOR is set).
    Text,
    /// The JSON report (the contract documented in the README).
    Json,
}

#[derive(Args, Clone)]
pub struct ReportArgs {
    /// What goes to stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE (one testcase per catalogue check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a self-contained HTML report to FILE (with a delivery timeline when
    /// traffic was captured).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Treat warnings as failures (verdict and exit code).
    #[arg(long)]
    pub strict: bool,
    /// Examples kept per group of findings (findings that share a cause are one group
    /// with a count); the JSON report says how many were left out.
    #[arg(long, default_value_t = brhook::testkit::report::DEFAULT_EXAMPLES, value_name = "N")]
    pub examples: usize,
    /// Show info groups in full (by default each is one line).
    #[arg(long)]
    pub verbose: bool,
}

impl ReportArgs {
    /// The text report's style for stdout.
    pub fn style(&self) -> text::Style {
        text::Style {
            color: color(),
            examples: self.examples,
            verbose: self.verbose,
        }
    }
}

/// True when stdout is a terminal and NO_COLOR is unset.
pub fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes the report where the options say; returns the exit code (0 pass, 1 fail).
pub fn emit(report: &Report, args: &ReportArgs) -> Result<i32, String> {
    write_files(report, args)?;
    match args.format {
        Format::Text => say!("{}", text::render(report, &args.style()).trim_end()),
        Format::Json => say!("{}", report.to_json()),
    }
    Ok(if report.passed() { 0 } else { 1 })
}

/// Writes the report files the options name (JSON, JUnit, HTML), each atomically: a
/// reader (a dashboard polling a report rewritten while the proxy runs) sees the old
/// file or the new one, never half of one.
pub fn write_files(report: &Report, args: &ReportArgs) -> Result<(), String> {
    type Render = fn(&Report) -> String;
    let files: [(&Option<PathBuf>, &str, Render); 3] = [
        (&args.report_json, "JSON", |r| r.to_json() + "\n"),
        (&args.junit, "JUnit", junit::render),
        (&args.html, "HTML", html::render),
    ];
    for (path, what, render) in files {
        if let Some(path) = path {
            atomic_write(path, render(report).as_bytes())
                .map_err(|e| format!("cannot write the {what} report to {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn atomic_write(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    std::fs::write(&temp, bytes)
        .and_then(|_| std::fs::rename(&temp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CatalogFormat {
    /// A table for people.
    Text,
    /// The catalogue as JSON.
    Json,
    /// A Markdown table (the README's copy is this output).
    Markdown,
}

#[derive(Args)]
pub struct ChecksArgs {
    /// One check to explain (e.g. F3): its clause, what passes, what trips it. Without
    /// it, the whole catalogue.
    #[arg(value_name = "ID")]
    id: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: CatalogFormat,
    /// Same as --format json (kept for scripts).
    #[arg(long, hide = true, conflicts_with = "markdown")]
    json: bool,
    /// Same as --format markdown (kept for scripts).
    #[arg(long, hide = true)]
    markdown: bool,
}

pub fn checks(args: ChecksArgs) -> Result<i32, String> {
    let format = match (args.json, args.markdown) {
        (true, _) => CatalogFormat::Json,
        (_, true) => CatalogFormat::Markdown,
        _ => args.format,
    };
    if let Some(id) = &args.id {
        let c: Check = id.parse()?;
        return super::explain::explain(c, format == CatalogFormat::Json);
    }
    match format {
        CatalogFormat::Json => say!(
            "{}",
            serde_json::to_string_pretty(CHECKS).expect("catalogue serialises")
        ),
        CatalogFormat::Markdown => say!("{}", brhook::testkit::catalog::markdown().trim_end()),
        CatalogFormat::Text => {
            say!(
                "{:<4} {:<5} {:<16} {:<60} source",
                "id",
                "level",
                "status",
                "check"
            );
            for c in CHECKS {
                let status = if c.implemented {
                    "implemented"
                } else {
                    "not implemented"
                };
                say!(
                    "{:<4} {:<5} {:<16} {:<60} {}",
                    c.id,
                    c.level,
                    status,
                    c.title,
                    c.source
                );
            }
            say!("\n`brhook checks ID` explains one check.");
        }
    }
    Ok(0)
}
