//! Subcommands: `serve` (default), `migrate`, `check`, `doctor`, `openapi`, `create-admin`,
//! `seed-demo`, `invoice`, `import-django`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{
    app::Application,
    auth::{
        model::Role,
        service::{Ensured, ensure_user},
    },
    config::Config,
    db::Db,
    state::AppState,
};

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
    /// Check every dependency with this environment (database, migrations, Redis, cache, storage,
    /// Razorpay, the configuration), one line each with its time; non-zero when a required one fails.
    Doctor,
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Create or promote an admin (idempotent). Without a password a new account gets a generated one,
    /// printed once.
    CreateAdmin {
        #[arg(long, env = "ADMIN_USERNAME")]
        username: String,
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long, env = "ADMIN_PHONE")]
        phone: Option<String>,
        /// Give the account the staff role instead of admin.
        #[arg(long)]
        staff: bool,
    },
    /// Load demo accounts (and, as features arrive, catalog and orders) so a fresh checkout has
    /// something to show. Refused in production unless --force.
    SeedDemo {
        #[arg(long)]
        force: bool,
        /// Also add this many demo orders (all statuses; the assigned ones on demo-staff).
        #[arg(long, default_value_t = 0)]
        orders: usize,
    },
    /// Render a paid order's invoice PDF to a file (the same PDF the download routes serve; the first
    /// rendering stamps `invoice_generated_at`).
    Invoice {
        /// The order's id.
        order_id: i64,
        /// Where to write the PDF.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Copy the original Django database into this one (users with their password hashes, the
    /// catalog, carts, orders, payments, resources, notifications), keeping ids. Re-runnable: a
    /// rerun copies only what is new or changed, and refuses rows it did not write.
    ImportDjango {
        /// The original's PostgreSQL URL.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The original's media directory, to copy uploaded files from (else names are kept).
        #[arg(long, value_name = "DIR")]
        media: Option<std::path::PathBuf>,
        /// Read both databases and report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = crate::import::model::DEFAULT_BATCH)]
        batch_size: usize,
    },
}

pub async fn run(cli: Cli, config: Config) -> ExitCode {
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Check => return check(&config),
        Command::Doctor => return doctor(&config).await,
        Command::Openapi => openapi(),
        Command::CreateAdmin {
            username,
            password,
            phone,
            staff,
        } => create_admin(config, &username, password, phone, staff).await,
        Command::SeedDemo { force, orders } => seed_demo(config, force, orders).await,
        Command::Invoice { order_id, out } => invoice(config, order_id, &out).await,
        Command::ImportDjango {
            from,
            media,
            dry_run,
            batch_size,
        } => {
            let options = crate::import::Options {
                media,
                dry_run,
                batch_size,
                progress: true,
                ..crate::import::Options::new(from)
            };
            import_django(config, &options).await
        }
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

async fn doctor(config: &Config) -> ExitCode {
    let lines = crate::doctor::run(config).await;
    for line in &lines {
        println!("{line}");
    }
    if crate::doctor::healthy(&lines) {
        println!("doctor: every required check passed");
        ExitCode::SUCCESS
    } else {
        println!("doctor: a required check failed");
        ExitCode::FAILURE
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.is_production() {
        let problems = config.production_problems();
        if problems
            .iter()
            .any(|p| p.contains("DJANGO_SECRET_KEY") || p.contains("RAZORPAY_MODE=fake"))
        {
            anyhow::bail!(
                "refusing to serve in production with an unsafe configuration: {}",
                problems.join("; ")
            );
        }
        for problem in problems.iter().chain(&config.production_warnings()) {
            tracing::warn!(problem = %problem, "production configuration");
        }
    } else if config.secret_generated {
        tracing::warn!(
            "DJANGO_SECRET_KEY is not set: using a random key for this process (tokens will not survive a restart)"
        );
    }
    // The first SIGTERM/SIGINT drains; a second one ends the drain at once. Installed before
    // connecting, so an early signal is never lost to the default action.
    let (shutdown, force) = crate::app::install_signal_handlers()?;
    let app = Application::build(config).await?;
    let addr = app.local_addr()?;
    tracing::info!(%addr, database = app.state().db.backend(), "electioncart serving");
    app.run_until_stopped(shutdown, force).await?;
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
    for warning in config.production_warnings() {
        eprintln!("warning: {warning}");
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

/// Prints the document; a closed pipe (`electioncart openapi | head`) is not an error.
fn openapi() -> anyhow::Result<()> {
    use std::io::Write;
    let text = crate::router::openapi_document().to_pretty_json()?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

async fn create_admin(
    config: Config,
    username: &str,
    password: Option<String>,
    phone: Option<String>,
    staff: bool,
) -> anyhow::Result<()> {
    let username = username.trim();
    anyhow::ensure!(!username.is_empty(), "--username must not be empty");
    let state = AppState::build(config).await?;
    let role = if staff { Role::Staff } else { Role::Admin };
    let exists = crate::auth::repo::find_by_username(&state.db, username)
        .await?
        .is_some();
    let generated = (!exists && password.is_none()).then(|| {
        format!(
            "{}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12],
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    });
    let password = password.or_else(|| generated.clone());
    let (user, outcome) = ensure_user(
        &state,
        username,
        password.as_deref(),
        role,
        phone.as_deref(),
    )
    .await?;
    let verb = match outcome {
        Ensured::Created => "created",
        Ensured::Updated => "updated",
        Ensured::Unchanged => "already up to date",
    };
    println!(
        "{} {} (id {}) {verb}",
        role.as_str(),
        user.username,
        user.id
    );
    if let Some(generated) = generated {
        println!("generated password (shown once): {generated}");
    }
    state.db.close().await;
    Ok(())
}

/// Demo accounts: documented, fixed credentials for trying the clients locally.
pub const DEMO_USERS: &[(&str, &str, Role, &str)] = &[
    ("demo-admin", "DemoAdmin#2026", Role::Admin, "+919111111111"),
    ("demo-staff", "DemoStaff#2026", Role::Staff, "+919222222222"),
    (
        "demo-customer",
        "DemoCustomer#2026",
        Role::User,
        "+919333333333",
    ),
];

async fn seed_demo(config: Config, force: bool, orders: usize) -> anyhow::Result<()> {
    if config.is_production() && !force {
        anyhow::bail!(
            "seed-demo loads accounts with published passwords; refusing in production (use --force to insist)"
        );
    }
    let state = AppState::build(config).await?;
    let mut admin_id = None;
    let mut ids = std::collections::HashMap::new();
    for (username, password, role, phone) in DEMO_USERS {
        let (user, outcome) =
            ensure_user(&state, username, Some(password), *role, Some(phone)).await?;
        if *role == Role::Admin {
            admin_id = Some(user.id);
        }
        ids.insert(*username, user.id);
        println!(
            "{:<14} {:<18} {:<6} {outcome:?}",
            username,
            password,
            role.as_str()
        );
    }
    let admin_id = admin_id.ok_or_else(|| anyhow::anyhow!("no demo admin"))?;
    let products = crate::catalog::demo::seed(&state, admin_id).await?;
    println!("demo catalog: {products} products created");
    if orders > 0 {
        let (Some(customer), Some(staff)) = (ids.get("demo-customer"), ids.get("demo-staff"))
        else {
            anyhow::bail!("no demo customer or staff member");
        };
        let made =
            crate::fulfilment::demo::seed_orders(&state, orders, *customer, *staff, admin_id)
                .await?;
        println!("demo orders: {made} created");
    }
    state.db.close().await;
    Ok(())
}

async fn invoice(config: Config, order_id: i64, out: &std::path::Path) -> anyhow::Result<()> {
    use crate::invoices::service as invoices;
    let state = AppState::build(config).await?;
    let order = crate::orders::service::get(&state, order_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {order_id} not found"))?;
    anyhow::ensure!(
        invoices::is_paid(&order),
        "order {} ({}) is not paid: invoices are only available for paid orders",
        order_id,
        order.order_number
    );
    let started = std::time::Instant::now();
    let blob = invoices::pdf_of(&state, &order)
        .await
        .map_err(|e| anyhow::anyhow!("rendering the invoice failed: {e}"))?;
    let took = started.elapsed();
    tokio::fs::write(out, &blob.bytes).await?;
    println!(
        "{} ({} bytes, {:.1} ms) written to {}",
        blob.name,
        blob.bytes.len(),
        took.as_secs_f64() * 1000.0,
        out.display()
    );
    state.db.close().await;
    Ok(())
}

/// A dry run neither migrates nor writes; a real run applies pending migrations first.
async fn import_django(config: Config, options: &crate::import::Options) -> anyhow::Result<()> {
    let state = if options.dry_run {
        let db = Db::connect(&config).await?;
        AppState::from_parts(config, db)
    } else {
        AppState::build(config).await?
    };
    let started = std::time::Instant::now();
    let summary = crate::import::run(&state, options).await;
    state.db.close().await;
    print!("{}", crate::import::render(&summary?));
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
