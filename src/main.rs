//! The `fedns` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = fedns::cli::Cli::parse();
    // hickory-proto warns about malformed input (EDNS options it cannot
    // read) once per packet: remote input must not fill the log, so its
    // lines are shown only when asked for by name or at debug level.
    let directives =
        if cli.log.contains("hickory") || cli.log.contains("debug") || cli.log.contains("trace") {
            cli.log.clone()
        } else {
            format!("{},hickory_proto=error", cli.log)
        };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,hickory_proto=error"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    match cli.log_format {
        fedns::cli::LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        fedns::cli::LogFormat::Json => logs.json().init(),
    }
    match fedns::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fedns: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
