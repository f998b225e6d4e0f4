//! Subcommands: `serve` (default), `migrate`, `check`, `openapi`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{app::Application, config::Config, db::Db};

#[derive(Debug, Parser)]
#[command(
    name = "electioncart",
    version,
    about = "The election-cart backend: API server and operator commands"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP on $PORT (the default command).
    Serve,
    /// Apply pending migrations and exit (for a pre-deploy step).
    Migrate,
    /// Validate the configuration for production; exits non-zero naming each problem.
    Check,
    /// Print the OpenAPI document (JSON).
    Openapi,
}

pub async fn run(cli: Cli, config: Config) -> ExitCode {
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Check => return check(&config),
        Command::Openapi => openapi(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "electioncart stopped with an error");
            eprintln!("electioncart: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.is_production() {
        let problems = config.production_problems();
        if problems.iter().any(|p| p.contains("DJANGO_SECRET_KEY")) {
            anyhow::bail!(
                "refusing to serve in production with an unsafe configuration: {}",
                problems.join("; ")
            );
        }
        for problem in problems {
            tracing::warn!(problem = %problem, "production configuration");
        }
    } else if config.secret_generated {
        tracing::warn!(
            "DJANGO_SECRET_KEY is not set: using a random key for this process (tokens will not survive a restart)"
        );
    }
    let app = Application::build(config).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, database = app.state().db.backend(), "electioncart serving");
    app.run_until_stopped(crate::app::shutdown_signal()).await?;
    tracing::info!("electioncart stopped");
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config).await?;
    db.migrate().await?;
    tracing::info!(database = db.backend(), "migrations applied");
    db.close().await;
    Ok(())
}

fn check(config: &Config) -> ExitCode {
    let mut problems = config.production_problems();
    if !config.is_production() {
        problems.insert(0, "APP_ENV is not production".to_string());
    }
    if problems.is_empty() {
        println!("configuration OK for production");
        ExitCode::SUCCESS
    } else {
        eprintln!("configuration problems:");
        for problem in &problems {
            eprintln!("  - {problem}");
        }
        ExitCode::FAILURE
    }
}

fn openapi() -> anyhow::Result<()> {
    println!("{}", crate::openapi::document().to_pretty_json()?);
    Ok(())
}
