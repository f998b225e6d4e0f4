use std::process::ExitCode;

use clap::Parser;
use electioncart::{cli::Cli, config::Config, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("electioncart: {error}");
            return ExitCode::from(2);
        }
    };
    electioncart::crypto::install_tls_provider();
    // Sentry first, before the runtime (its guard flushes on drop at exit).
    let _sentry = telemetry::init_sentry(&config);
    // Flushes the queued log lines when `main` returns.
    let _log_writer = telemetry::init_tracing(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("electioncart: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(electioncart::cli::run(cli, config))
}
