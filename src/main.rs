//! The `cimetrics` binary: argument parsing, wiring and exit codes. Logic lives in the crates.

mod ask;
mod client;
mod cpus;
mod db;
mod gate;
mod import;
mod serve;
mod summary;
mod trends;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cimetrics", version, about = "CI test and coverage metrics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: uploads, JSON API, charts, badges and the dashboard.
    Serve(serve::Args),
    /// Send reports to a cimetrics server (from a CI job: build, commit, branch and shard
    /// come from the CI's environment).
    Upload(client::UploadArgs),
    /// Manage projects on a server.
    #[command(subcommand)]
    Project(client::ProjectCommand),
    /// Read test and coverage reports and print their counts.
    Summary(summary::Args),
    /// Load a history of reports (one folder per build) into the database.
    Import(import::Args),
    /// Evaluate a quality gate on a build's reports: exit 0 when it passes, 1 when not.
    Gate(gate::Args),
    /// Print the main series (success rate, pass rate, coverage, build time) per window.
    Trends(trends::Args),
    #[command(flatten)]
    Ask(ask::Question),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Summary(args) => return summary::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Upload(args) => client::upload(&args),
        Command::Project(cmd) => client::project(&cmd),
        Command::Import(args) => import::run(&args),
        Command::Gate(args) => gate::run(&args),
        Command::Trends(args) => trends::run(&args),
        Command::Ask(q) => ask::run(&q),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cimetrics: {e:#}");
        ExitCode::from(2)
    })
}
