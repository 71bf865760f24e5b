//! The command line: `serve` (the default), `user add`, `user reset-2fa`, `api-key`, `seed-demo`,
//! `import itglue`, `export`.
//! Nothing else lives here.

use std::io::{IsTerminal, Read};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use roster::Application;
use roster::auth::accounts::{self, NewUser};
use roster::config::RawSettings;
use tracing_subscriber::EnvFilter;

/// mimalloc rather than glibc's malloc: a page allocates and frees many small strings, and glibc
/// spent a sixth of a list page's time doing it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "Self-hosted IT documentation for MSPs"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys (for scripts and integrations using the IT Glue-compatible API under /api).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Fill the database with realistic demo organizations (to try Roster, and for benchmarks).
    SeedDemo {
        /// How many organizations to add
        #[arg(long, default_value_t = 200)]
        organizations: usize,
        /// Seed of the random choices (the same seed gives the same data)
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Records (contacts, configurations, documents, passwords, flexible assets) to give each organization
        #[arg(long, default_value_t = 0, alias = "records")]
        records_per_organization: usize,
    },
    /// Import another tool's export.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export everything in IT Glue's layout (organizations.csv, contacts.csv, ..., one CSV per
    /// flexible asset type, documents/...) as one ZIP written to PATH.
    Export {
        path: std::path::PathBuf,
        /// Include the passwords (otherwise their column is empty); keep the file safe
        #[arg(long)]
        with_passwords: bool,
    },
    /// Rebuild the search index from the organizations and records (after a restore or an import
    /// that wrote rows directly).
    Reindex,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Read an IT Glue export (its ZIP, or the folder it was unpacked to) and print what importing
    /// it would do, file by file; nothing is written unless --apply is given. A ZIP password is
    /// read from a prompt, or from standard input when it is not a terminal; never from the
    /// arguments.
    Itglue {
        path: std::path::PathBuf,
        /// Apply the import (in batches, with a progress line; a stopped import of the same
        /// export is resumed), then print its report
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from a prompt, or from standard input when it is not a
    /// terminal; never from the arguments.
    Add {
        #[arg(long)]
        email: String,
        /// administrator, manager, editor, creator, lite or read_only
        #[arg(long)]
        role: String,
        /// The name shown in Roster (default: the part of the email before the @)
        #[arg(long)]
        name: Option<String>,
    },
    /// Reset a user's two-factor sign-in (a lost device): their authenticator app, passkeys and
    /// recovery codes are removed and their sessions end; they enrol again at the next sign-in
    /// when the policy requires it.
    #[command(name = "reset-2fa")]
    ResetTwoFactor {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Add a key acting as the user EMAIL (with that user's role and organization access); the key
    /// is printed once and cannot be shown again.
    Add {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// The key may read password values
        #[arg(long)]
        password_access: bool,
        /// The first day (YYYY-MM-DD, UTC) on which the key no longer works (default: never)
        #[arg(long, default_value = "")]
        expires: String,
    },
    /// List the keys (prefix, name, user, state, last use).
    List,
    /// Revoke the key with this prefix (as shown by `list`).
    Revoke { prefix: String },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let settings = RawSettings::from_env_and_file()?.resolve()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::User {
            command: UserCommand::Add { email, role, name },
        } => add_user(&settings, &email, &role, name),
        Command::User {
            command: UserCommand::ResetTwoFactor { email },
        } => reset_two_factor(&settings, &email),
        Command::ApiKey { command } => api_key(&settings, command),
        Command::SeedDemo {
            organizations,
            seed,
            records_per_organization,
        } => seed_demo(&settings, organizations, seed, records_per_organization),
        Command::Import {
            command: ImportCommand::Itglue { path, apply },
        } => import_itglue(&settings, &path, apply),
        Command::Export {
            path,
            with_passwords,
        } => export(&settings, &path, with_passwords),
        Command::Reindex => reindex(&settings),
    }
}

fn serve(settings: roster::config::Settings) -> anyhow::Result<()> {
    let bind = settings.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)?;
        tracing::info!("Roster is listening on http://{bind}");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn read_password() -> anyhow::Result<(String, String)> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        Ok((first, second))
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let line = text.lines().next().unwrap_or_default().to_owned();
        Ok((line.clone(), line))
    }
}

/// Opens an export, asking for the ZIP password only when the ZIP has one; the password comes back
/// too (an import job reopens the export).
fn open_export(
    path: &std::path::Path,
) -> anyhow::Result<(roster::transfer::source::Source, Option<String>)> {
    use roster::transfer::{TransferError, source};
    match source::Source::open(path, None, source::Limits::default()) {
        Err(TransferError::Password(_)) => {
            let password = if std::io::stdin().is_terminal() {
                rpassword::prompt_password("ZIP password: ")?
            } else {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text)?;
                text.lines().next().unwrap_or_default().to_owned()
            };
            let opened = source::Source::open(path, Some(&password), source::Limits::default())?;
            Ok((opened, Some(password)))
        }
        other => Ok((other?, None)),
    }
}

fn import_itglue(
    settings: &roster::config::Settings,
    path: &std::path::Path,
    apply: bool,
) -> anyhow::Result<()> {
    let (mut source, password) = open_export(path)?;
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    let preview = roster::transfer::lean_conn::without_map(&mut conn, |conn| {
        roster::transfer::preview::preview(conn, &mut source)
    })?;
    println!("{preview}");
    if !apply {
        println!("This was a preview: nothing was written.");
        return Ok(());
    }
    drop((conn, source));
    let mut progress = |run: &roster::transfer::run::Run| {
        println!("{}", roster::transfer::report::progress_line(run));
    };
    let (job, _) = roster::transfer::foreground::apply(
        &pool,
        settings,
        path,
        password.as_deref(),
        &mut progress,
    )?;
    let mut conn = pool.get().context("no database connection")?;
    print!("{}", roster::transfer::report::text(&mut conn, job.0)?);
    Ok(())
}

fn export(
    settings: &roster::config::Settings,
    path: &std::path::Path,
    with_passwords: bool,
) -> anyhow::Result<()> {
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let scope = roster::transfer::export::Scope {
        organization: None,
        with_passwords,
    };
    let mut shown = 0;
    let mut progress = |rows: i64| {
        if rows - shown >= 10_000 {
            println!("{rows} rows written");
            shown = rows;
        }
    };
    roster::transfer::export_job::foreground(&pool, settings, scope, path, &mut progress)?;
    println!("Exported to {}", path.display());
    Ok(())
}

fn add_user(
    settings: &roster::config::Settings,
    email: &str,
    role: &str,
    name: Option<String>,
) -> anyhow::Result<()> {
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned());
    let (password, confirm) = read_password()?;
    let new = match NewUser::parse(email, &name, role, &password, &confirm) {
        Ok(new) => new,
        Err(errors) => {
            for field in [
                "email",
                "display_name",
                "role",
                "password",
                "password_confirm",
            ] {
                if let Some(message) = errors.get(field) {
                    eprintln!("{field}: {message}");
                }
            }
            bail!("the user was not added");
        }
    };
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    match accounts::create(&mut conn, None, &new) {
        Ok(id) => {
            println!("Added {} ({}) with id {}.", new.email, new.role, id.0);
            Ok(())
        }
        Err(roster::auth::AuthError::Invalid(errors)) => {
            bail!(
                "{}",
                errors.get("email").unwrap_or("the user was not added")
            )
        }
        Err(e) => Err(e.into()),
    }
}

fn reset_two_factor(settings: &roster::config::Settings, email: &str) -> anyhow::Result<()> {
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    match roster::auth::two_factor::reset::reset_by_email(&mut conn, email) {
        Ok(user) => {
            println!(
                "The two-factor sign-in of {} is reset and their sessions are signed out.",
                user.email
            );
            Ok(())
        }
        Err(roster::auth::AuthError::NotFound) => bail!("no user has the email address {email}"),
        Err(e) => Err(e.into()),
    }
}

fn reindex(settings: &roster::config::Settings) -> anyhow::Result<()> {
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    let (orgs, records) = roster::search::index::reindex(&mut conn)
        .context("the search index could not be rebuilt")?;
    println!("Indexed {orgs} organizations and {records} records for search.");
    Ok(())
}

fn api_key(settings: &roster::config::Settings, command: ApiKeyCommand) -> anyhow::Result<()> {
    use roster::api::keys;
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    match command {
        ApiKeyCommand::Add {
            user,
            name,
            password_access,
            expires,
        } => {
            let new =
                keys::NewKey::parse(&name, &user, password_access, &expires).map_err(|errors| {
                    let said: Vec<String> = ["name", "user", "expires"]
                        .iter()
                        .filter_map(|f| errors.get(f).map(|m| format!("{f}: {m}")))
                        .collect();
                    anyhow::anyhow!("the key was not added: {}", said.join("; "))
                })?;
            match keys::create(&mut conn, &settings.session_key, None, &new) {
                Ok((row, key)) => {
                    eprintln!(
                        "Added the API key {} ({}) acting as {}. Copy it now: it cannot be shown again.",
                        row.name, row.prefix, new.user_email
                    );
                    println!("{key}");
                    Ok(())
                }
                Err(roster::auth::AuthError::Invalid(errors)) => {
                    bail!("{}", errors.get("user").unwrap_or("the key was not added"))
                }
                Err(e) => Err(e.into()),
            }
        }
        ApiKeyCommand::List => {
            let at = roster::db::now();
            for listed in keys::list(&mut conn)? {
                let key = &listed.key;
                let used = key.last_used_at.map_or_else(
                    || "never used".to_owned(),
                    |t| {
                        format!(
                            "last used {} from {}",
                            t.format("%Y-%m-%d %H:%M"),
                            key.last_used_from.as_deref().unwrap_or("?")
                        )
                    },
                );
                println!(
                    "{}\t{}\t{}\t{}\t{used}",
                    key.prefix,
                    key.name,
                    listed.user_email,
                    key.state(at)
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { prefix } => {
            match keys::revoke(&mut conn, None, keys::Which::Prefix(&prefix)) {
                Ok(key) => {
                    println!("Revoked the API key {} ({}).", key.name, key.prefix);
                    Ok(())
                }
                Err(roster::auth::AuthError::NotFound) => {
                    bail!("no API key has the prefix {prefix:?}; `roster api-key list` shows them")
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn seed_demo(
    settings: &roster::config::Settings,
    count: usize,
    seed: u64,
    records: usize,
) -> anyhow::Result<()> {
    let (pool, _) = roster::startup::prepare_database(settings)?;
    let mut conn = pool.get().context("no database connection")?;
    let started = std::time::Instant::now();
    let summary = roster::orgs::demo::seed(&mut conn, count, seed, records, &settings.data_key)?;
    println!(
        "Added {} demo organizations ({} of them sub-organizations) and {} records in {:.1} s.",
        summary.organizations,
        summary.sub_organizations,
        summary.records,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
