use std::process::ExitCode;

use clap::Parser;
use electioncart::{cli::Cli, config::Config, telemetry};

/// mimalloc rather than glibc's malloc: the request path allocates and frees many small blocks on
/// every worker thread, and glibc's `malloc`/`free`/`malloc_consolidate` were about 13 % of the CPU of
/// an authenticated Redis-cached request. Issue 8's benchmark: `me` with Redis 0.75-0.85x the bare
/// reference with glibc, 0.89-0.91x with mimalloc; idle RSS +1.9 MB. Transparent huge pages are off
/// (`no_thp`): with them idle RSS was 37 MB instead of 25 MB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
