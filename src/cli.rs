//! The command line: `serve` (the default), `migrate`, `schema`, `token`, `grant`,
//! `set-webhook`, `delete-webhook`, `reconcile-stars`.

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::domain::credits::{BalanceChange, EntryKind, IdempotencyKey};
use crate::{app, config::Config, domain::users::TelegramProfile, telemetry};

#[derive(Parser)]
#[command(name = "aisha", version, about = "AISHA: an AI photo studio backend (GraphQL API and Telegram bot)")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the API, GraphiQL and the webhooks (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL); `schema.graphql` holds its output.
    Schema,
    /// Create the user if needed and print a bearer token for them.
    Token {
        #[arg(long)]
        telegram_id: i64,
        #[arg(long)]
        username: Option<String>,
    },
    /// Add credits to a user (an `ADJUSTMENT` in the ledger), e.g. to try avatar training.
    Grant {
        #[arg(long)]
        telegram_id: i64,
        #[arg(long)]
        credits: i64,
        #[arg(long, default_value = "granted by the operator")]
        reason: String,
    },
    /// Block a user (as `blockUser` does): their requests are refused with the reason. Without
    /// Redis, a running server may trust its cached "not blocked" for up to five minutes.
    Block {
        #[arg(long)]
        telegram_id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Lift a block (as `unblockUser` does).
    Unblock {
        #[arg(long)]
        telegram_id: i64,
    },
    /// Point Telegram at this server: setWebhook with `AISHA_PUBLIC_URL/telegram/webhook`, the
    /// secret and the update types the bot handles.
    SetWebhook,
    /// Stop Telegram from sending updates here (deleteWebhook).
    DeleteWebhook,
    /// Read the bot's Stars transactions (getStarTransactions) and credit every paid charge we
    /// never recorded; prints what it did.
    ReconcileStars,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::SetWebhook => {
            let url = crate::telegram::set_webhook(&Config::from_env()?).await?;
            println!("webhook set: {url}");
            Ok(())
        }
        Command::DeleteWebhook => {
            crate::telegram::delete_webhook(&Config::from_env()?).await?;
            println!("webhook deleted");
            Ok(())
        }
        Command::Migrate => {
            telemetry::init();
            let config = Config::from_env()?;
            let db = crate::adapters::db::connect(&config.database_url).await?;
            crate::adapters::db::migrate(&db).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token { telegram_id, username } => {
            telemetry::init();
            let app = app::build(Config::from_env()?).await?;
            let profile = TelegramProfile { telegram_id, username, ..TelegramProfile::default() };
            let user = app.services.users.sign_up_or_refresh(&profile, None).await?;
            println!("{}", app.services.auth.issue_token(user.id).await?);
            Ok(())
        }
        Command::Grant { telegram_id, credits, reason } => {
            telemetry::init();
            let app = app::build(Config::from_env()?).await?;
            let profile = TelegramProfile { telegram_id, ..TelegramProfile::default() };
            let user = app.services.users.sign_up_or_refresh(&profile, None).await?;
            let change = BalanceChange {
                kind: EntryKind::Adjustment,
                amount: credits,
                reason,
                key: IdempotencyKey::parse(&format!("cli-grant:{:032x}", rand::random::<u128>()))?,
            };
            let entry = app.services.credits.apply(user.id, change.clone()).await?;
            let details = serde_json::json!({ "amount": credits, "transaction": entry.id, "via": "cli" });
            app.services
                .audit
                .record("grant", &format!("telegram:{telegram_id}"), Some(&change.reason), details)
                .await?;
            println!("balance: {}", entry.balance_after);
            Ok(())
        }
        Command::Block { telegram_id, reason } => {
            telemetry::init();
            let app = app::build(Config::from_env()?).await?;
            let user = app.services.users.by_telegram_id(telegram_id).await?;
            app.services.users.block(user.id, &reason).await?;
            let details = serde_json::json!({ "via": "cli" });
            app.services
                .audit
                .record("blockUser", &format!("telegram:{telegram_id}"), Some(reason.trim()), details)
                .await?;
            println!("blocked user {} (telegram {telegram_id})", user.id);
            Ok(())
        }
        Command::Unblock { telegram_id } => {
            telemetry::init();
            let app = app::build(Config::from_env()?).await?;
            let user = app.services.users.by_telegram_id(telegram_id).await?;
            app.services.users.unblock(user.id).await?;
            app.services
                .audit
                .record("unblockUser", &format!("telegram:{telegram_id}"), None, serde_json::json!({ "via": "cli" }))
                .await?;
            println!("unblocked user {} (telegram {telegram_id})", user.id);
            Ok(())
        }
        Command::ReconcileStars => {
            telemetry::init();
            let config = Config::from_env()?;
            let telegram = config.telegram.clone().context("TELEGRAM_BOT_TOKEN is not set")?;
            let app = app::build(config).await?;
            let report = crate::telegram::reconcile_stars(&telegram, &app.services.payments).await?;
            for (charge, credits) in &report.credited {
                println!("credited {credits} credits for charge {charge} (paid, never recorded)");
            }
            for charge in &report.refunded_elsewhere {
                println!("charge {charge} was refunded at Telegram but not through AISHA: check it");
            }
            for (charge, why) in &report.skipped {
                println!("skipped charge {charge}: {why}");
            }
            println!(
                "{} credited, {} already recorded, {} refunded elsewhere, {} skipped",
                report.credited.len(),
                report.already_recorded,
                report.refunded_elsewhere.len(),
                report.skipped.len()
            );
            Ok(())
        }
        Command::Serve => {
            telemetry::init();
            let config = Config::from_env()?;
            let bind = config.bind;
            let app = app::build(config).await?;
            let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("binding {bind}"))?;
            tracing::info!(
                "AISHA listening on http://{bind} (GraphQL /graphql{})",
                if app.config.graphiql { ", GraphiQL /graphiql" } else { "" }
            );
            crate::http::run_until_stopped(app, listener, shutdown_signal()).await
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
