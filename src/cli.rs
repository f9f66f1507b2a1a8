//! The `zhijian` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{self, DatabaseUrl};
use crate::domain::phone::Phone;
use crate::domain::profile::{Password, PersonName};
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::{audit, audit_chain};
use crate::startup::{prepare_database, Application};
use crate::{keys, seed, telemetry};

#[derive(Parser)]
#[command(name = "zhijian", version, about = "Zhijian (指尖) union welfare service")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve on BIND (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Create a platform_admin account.
    CreateAdmin {
        #[arg(long)]
        phone: String,
        /// Also read from ADMIN_PASSWORD, to keep it out of the process list.
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "平台管理员")]
        name: String,
    },
    /// Load a small demo world and print its logins.
    SeedDemo,
    /// Replace VOUCHER_KEY and/or JWT_SECRET on purpose (stop every instance first).
    /// The current keys come from the usual variables; the new ones from NEW_VOUCHER_KEY
    /// and NEW_JWT_SECRET. See the README, "Keys and rotation".
    RotateKeys {
        #[arg(long, env = "NEW_VOUCHER_KEY", hide_env_values = true)]
        new_voucher_key: Option<String>,
        #[arg(long, env = "NEW_JWT_SECRET", hide_env_values = true)]
        new_jwt_secret: Option<String>,
    },
    /// Check the database's consistency (read-only): stock, per-worker limits, one live
    /// redemption per redeemed voucher, audit entries. Exits 0, or 1 listing violations.
    Check,
    /// The audit trail's hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every chained entry against its predecessor and the recorded head (read-only).
    /// Exits 0 when intact; 1 naming the first bad seq.
    Verify,
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env().map_err(anyhow::Error::msg)?;
    telemetry::init(config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            let host = config
                .bind
                .rsplit_once(':')
                .map_or(config.bind.as_str(), |(h, _)| h);
            tracing::info!(
                url = %format!("http://{host}:{}", app.port()),
                database = %config.database_url.describe(),
                jwt_secret = %keys::source(&config, keys::Secret::JwtSecret),
                voucher_key = %keys::source(&config, keys::Secret::VoucherKey),
                locks = if config.redis_url.is_some() { "Redis" } else { "in-process" },
                time_zone = %config.time_zone,
                "zhijian serving"
            );
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            prepare_database(&config.database_url, 1).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            phone,
            password,
            name,
        } => {
            let phone = Phone::parse(&phone).context("phone must be an 11-digit mainland mobile number")?;
            let password = Password::try_from(password).map_err(anyhow::Error::msg)?;
            let name = PersonName::parse(&name).map_err(|e| anyhow::anyhow!("name: {}", e.message()))?;
            let pool = prepare_database(&config.database_url, 1).await?;
            let id = seed::create_platform_admin(pool, phone, &password, name).await?;
            println!("platform_admin created: {id}");
        }
        Command::SeedDemo => {
            let pool = prepare_database(&config.database_url, 2).await?;
            let keys = voucher_keys(&config, &pool).await?;
            audit::use_key(&keys);
            seed::run(pool, keys).await?;
        }
        Command::RotateKeys {
            new_voucher_key,
            new_jwt_secret,
        } => {
            if new_voucher_key.is_none() && new_jwt_secret.is_none() {
                anyhow::bail!("set NEW_VOUCHER_KEY and/or NEW_JWT_SECRET");
            }
            let pool = prepare_database(&config.database_url, 1).await?;
            let done = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get()?;
                keys::rotation::rotate(
                    &config,
                    &mut conn,
                    new_voucher_key.as_deref(),
                    new_jwt_secret.as_deref(),
                )
            })
            .await??;
            println!(
                "rotated: {} voucher codes re-keyed{}; start every instance with the new values",
                done.vouchers_rekeyed,
                if done.jwt_secret {
                    ", signing secret replaced"
                } else {
                    ""
                }
            );
        }
        Command::Check => {
            let pool = existing_database(&config)?;
            let checked = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get()?;
                Ok::<_, anyhow::Error>(crate::check::run(&mut conn)?)
            })
            .await?;
            // 2, not 1: "could not look" must not read as "found damage".
            let found = checked.unwrap_or_else(|e| {
                eprintln!("could not check: {e:#}");
                std::process::exit(2)
            });
            if !found.is_empty() {
                for v in &found {
                    eprintln!("{}: {}", v.rule, v.detail);
                }
                eprintln!("INCONSISTENT: the violations above (at most 20 per rule)");
                std::process::exit(1);
            }
            println!("consistent: stock, per-worker limits, redemptions and audit entries all agree");
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let pool = existing_database(&config)?;
            let keys = voucher_keys(&config, &pool).await?;
            let verdict = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get()?;
                Ok::<_, anyhow::Error>(audit_chain::verify(&mut conn, &keys)?)
            })
            .await??;
            if let Some((seq, why)) = verdict.broken {
                eprintln!("audit chain BROKEN at seq {seq}: {why}");
                eprintln!("({} entries before it are intact)", verdict.sealed);
                std::process::exit(1);
            }
            if let Some(id) = verdict.forged_waiting {
                eprintln!("audit trail BROKEN: entry {id}, not chained yet, does not carry the service's signature (written or edited outside the service)");
                std::process::exit(1);
            }
            println!(
                "audit chain intact: {} entries, head seq {} hash {} ({} written, not yet chained)",
                verdict.sealed, verdict.head_seq, verdict.head_hash, verdict.waiting
            );
        }
    }
    Ok(())
}

/// The service's database for a read-only command: no migration, and no new empty
/// database from a mistyped path.
fn existing_database(config: &Config) -> anyhow::Result<db::DbPool> {
    if let DatabaseUrl::Sqlite(path) = &config.database_url {
        anyhow::ensure!(
            std::path::Path::new(path).exists(),
            "no database at {path}: set DATABASE_URL to the service's database"
        );
    }
    db::connect(&config.database_url, 1).context("cannot reach the database")
}

/// `VOUCHER_KEY` (from the environment or the SQLite key file), checked against the
/// fingerprint the database recorded: the key audit entries are signed with.
async fn voucher_keys(config: &Config, pool: &db::DbPool) -> anyhow::Result<VoucherKeys> {
    let (config, pool) = (config.clone(), pool.clone());
    tokio::task::spawn_blocking(move || {
        let key = keys::resolve(&config, keys::Secret::VoucherKey)?;
        keys::check(&mut *pool.get()?, keys::Secret::VoucherKey, &key)?;
        Ok(VoucherKeys::new(&key))
    })
    .await?
}
