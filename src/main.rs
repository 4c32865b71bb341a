//! `tongxing`: the thin command-line front of the API crate.

use std::{io::BufRead, path::PathBuf, time::Duration};

use anyhow::Context;
use api::{
    AppState, Config,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service::{CreateAdminOutcome, create_admin},
    },
    db, telemetry, web,
};
use clap::{Parser, Subcommand};

/// Tongxing (同行): GraphQL backend for volunteer shifts, charity events and campaigns.
#[derive(Parser)]
#[command(name = "tongxing", version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to PATH, or to standard output. Needs no database.
    ExportSchema {
        /// File to write; standard output when absent.
        path: Option<PathBuf>,
    },
    /// Create a system administrator, or make an existing account one (idempotent per phone).
    CreateAdmin {
        /// Mobile number of the administrator.
        #[arg(long)]
        phone: String,
        /// Read the password from the first line of standard input (required: passwords are
        /// never taken from the command line, where `ps` and shell history would see them).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// Fill an empty database with a small demo city (accounts use the password tongxing-demo).
    SeedDemo,
    /// Write a consistent copy of the SQLite database to PATH while the server runs
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// The new file (must not exist).
        path: PathBuf,
    },
    /// Replace the SQLite database with the backup at PATH. Stop the server first; the
    /// replaced database is kept beside it.
    Restore {
        /// The backup file.
        path: PathBuf,
        /// Restore even though a write-ahead log suggests the database is open.
        #[arg(long)]
        force: bool,
    },
}

// glibc's malloc was a fifth of the server's CPU time under the home-feed load (perf); mimalloc
// (well kept, small, used by many Rust services) is markedly cheaper for many small
// allocations across threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of each runtime worker thread. A GraphQL request is a deep chain of nested futures
/// (router layers, the executor, one future per field level, the database driver); unoptimized
/// builds lay them out several times larger than release builds do, and tokio's 2 MiB default
/// leaves a debug server (`cargo run`, CI's reference clients) one feature away from a stack
/// overflow on an ordinary request. 8 MiB is what the main thread gets anyway.
const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    // Before anything builds an HTTPS client (trace export, the SMS provider).
    api::sms::install_tls_provider();
    let cli = Cli::parse();
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::ExportSchema { path } => {
            let sdl = api::sdl();
            match path {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(config.log_format);
            let conn = db::connect(&config.database_url(), 1).await?;
            db::migrate(&conn).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::CreateAdmin {
            phone,
            password_stdin: _,
            name,
        } => {
            telemetry::init(config.log_format);
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']);
            let phone =
                Phone::parse(&phone, "--phone").map_err(|e| anyhow::anyhow!("--phone: {e}"))?;
            let password = Password::parse(password, "password")
                .map_err(|e| anyhow::anyhow!("password: {e}"))?;
            let name =
                DisplayName::parse(&name, "--name").map_err(|e| anyhow::anyhow!("--name: {e}"))?;
            let conn = db::connect(&config.database_url(), 1).await?;
            db::migrate(&conn).await?;
            let state = AppState::new(conn, config)?;
            match create_admin(&state, phone, password, name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                CreateAdminOutcome::Created(id) => {
                    eprintln!("created system administrator (account {id})")
                }
                CreateAdminOutcome::AlreadyExisted(id) => {
                    eprintln!("account {id} already existed; it is a system administrator")
                }
            }
            Ok(())
        }
        Command::SeedDemo => {
            telemetry::init(config.log_format);
            let conn = db::connect(&config.database_url(), 2)
                .await
                .context("connecting to the database")?;
            db::migrate(&conn).await.context("applying migrations")?;
            let state = AppState::new(conn, config)?;
            let summary = api::seed::seed_demo(&state).await?;
            eprintln!("created a demo city: {summary}");
            Ok(())
        }
        Command::Backup { path } => {
            let conn = db::connect(&config.database_url(), 1).await?;
            api::backup::backup_sqlite(&conn, &path).await?;
            conn.close().await.ok();
            eprintln!("backed up to {}", path.display());
            Ok(())
        }
        Command::Restore { path, force } => {
            let url = config.database_url();
            let target = api::backup::sqlite_path(&url).context(
                "restore replaces the embedded SQLite database; for PostgreSQL use pg_restore",
            )?;
            let kept = api::backup::restore_sqlite(&path, &target, force).await?;
            // Open it the way the server will (migrations included), so a bad restore shows now.
            let conn = db::connect(&url, 1).await?;
            db::migrate(&conn).await.context("applying migrations")?;
            conn.close().await.ok();
            match kept {
                Some(k) => eprintln!(
                    "restored {} from {}; the replaced database is at {}",
                    target.display(),
                    path.display(),
                    k.display()
                ),
                None => eprintln!("restored {} from {}", target.display(), path.display()),
            }
            Ok(())
        }
        Command::Serve => serve(config).await,
    }
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let traces = telemetry::init_server(config.log_format)?;
    let conn = db::connect_with(
        &config.database_url(),
        config.pool_size(),
        Duration::from_millis(config.db_acquire_timeout_ms),
    )
    .await
    .context("connecting to the database")?;
    db::migrate(&conn).await.context("applying migrations")?;
    let listen = config.listen;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    // The port actually bound (port 0 picks one): links derived from the listening address
    // (no TONGXING_PUBLIC_URL) must name it.
    config.listen = listener.local_addr()?;
    if config
        .public_url
        .as_deref()
        .is_none_or(|u| u.trim().is_empty())
        && config.environment == api::config::Environment::Production
    {
        tracing::warn!(
            base = %config.public_base_url(),
            "TONGXING_PUBLIC_URL is not set: calendar links name the listening address"
        );
    }
    let state = AppState::new(conn, config)?;
    api::housekeeping::spawn(state.clone());
    if state.config.notifications_deliver {
        api::notifications::worker::spawn(state.clone());
    }
    tracing::info!(addr = %state.config.listen, "serving GraphQL at /graphql, GraphiQL at /");
    let live = state.live.clone();
    let draining = state.draining.clone();
    let delay = Duration::from_secs(state.config.shutdown_delay_secs);
    let shutdown = async move {
        web::shutdown_signal().await;
        // A second signal means now: the person on call is not waiting out the drain.
        tokio::spawn(async {
            web::shutdown_signal().await;
            tracing::warn!("second shutdown signal: exiting without finishing in-flight requests");
            std::process::exit(1);
        });
        // Not ready any more, but still serving: the load balancer moves new requests to the
        // other replicas before this one stops listening.
        draining.store(true, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(
            delay_secs = delay.as_secs(),
            "draining: /readyz answers 503"
        );
        tokio::time::sleep(delay).await;
        // Subscriptions complete and WebSockets close while HTTP requests finish.
        live.begin_shutdown();
    };
    web::serve(listener, api::app(state.clone()), shutdown, grace).await?;
    state.live.wait_for_connections(grace).await;
    // Closing the pool lets SQLite checkpoint its log into the database file.
    state.db.clone().close().await.ok();
    tracing::info!("stopped");
    // The last spans, if traces are exported (the exporter blocks: off the async workers).
    tokio::task::spawn_blocking(move || traces.shutdown())
        .await
        .ok();
    Ok(())
}
