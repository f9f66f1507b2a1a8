//! The `zhijian` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::domain::phone::Phone;
use crate::domain::profile::{Password, PersonName};
use crate::startup::{prepare_database, Application};
use crate::{seed, telemetry};

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
            let id = seed::create_platform_admin(pool, phone, &password, name).await?;
            println!("platform_admin created: {id}");
        }
        Command::SeedDemo => {
            let pool = prepare_database(&config.database_url, 2).await?;
            seed::run(pool).await?;
        }
    }
    Ok(())
}
