//! The `zhijian` command line.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::auth::password::PasswordHasher;
use crate::config::Config;
use crate::domain::now;
use crate::domain::phone::Phone;
use crate::domain::profile::{Password, PersonName, Role};
use crate::domain::users::{self, CreateUserError, NewUser};
use crate::startup::{prepare_database, Application};
use crate::{db, seed, telemetry};

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
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env().map_err(anyhow::Error::msg)?;
    telemetry::init(config.log_json);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            tracing::info!(bind = %config.bind, port = app.port(), "zhijian serving");
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
            let name = PersonName::parse(&name).context("name must be 1-40 characters")?;
            let pool = prepare_database(&config.database_url, 1).await?;
            let hash = PasswordHasher::new(1)
                .map_err(anyhow::Error::msg)?
                .hash(password.expose().to_owned())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let admin = NewUser::new(phone, hash, name.into_string(), Role::PlatformAdmin, now());
            let id = admin.id.clone();
            let created =
                tokio::task::spawn_blocking(move || -> anyhow::Result<Result<(), CreateUserError>> {
                    let mut conn = pool.get()?;
                    Ok(db::write_tx(&mut conn, |conn| {
                        Ok::<_, diesel::result::Error>(users::create(conn, &admin))
                    })?)
                })
                .await??;
            match created {
                Ok(()) => println!("platform_admin created: {id}"),
                Err(CreateUserError::PhoneTaken) => bail!("that phone is already registered"),
                Err(e) => return Err(e.into()),
            }
        }
        Command::SeedDemo => {
            let pool = prepare_database(&config.database_url, 2).await?;
            seed::run(pool).await?;
        }
    }
    Ok(())
}
