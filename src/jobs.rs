//! Background work every instance runs (contract v1.1; issue 10): release due stock
//! batches, put expired vouchers' units back (telling their holders), send the
//! "about to expire" reminders, and deliver the outbox.
//!
//! Why not a job-queue crate: the well-kept ones (apalis, fang, sqlxmq) bring their own
//! database layer (sqlx) and a PostgreSQL-only or separate-table design, while everything
//! here is already stored state: a due batch, an expired voucher, a reminder not yet
//! recorded, an undelivered outbox row. Each step is a conditional write on that state
//! (`released_at`, `stock_returned_at`, the (voucher, stage) key, the outbox lease), so any
//! number of instances — or a claim reaching for the same unit — can run it at once and
//! nothing happens twice, and a restart simply finds the same state again. The runner
//! itself is a timer.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::app::{expiry, passwords};
use crate::db::{self, DbPool};
use crate::domain::ids::EndpointId;
use crate::domain::voucher_code::VoucherKeys;
use crate::domain::webhooks;
use crate::domain::{now, releases, vouchers};
use crate::outbox::{self, deliver, ssrf};

/// How the jobs run (from the environment; see the README).
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// `JOBS_ENABLED` (default on).
    pub enabled: bool,
    /// `JOBS_TICK_MS`: how often each instance looks for work.
    pub tick: Duration,
    /// `REMINDER_HOURS`: stages before `expires_at` at which holders are reminded.
    pub reminder_hours: Vec<u32>,
    /// `NOTIFY_WEBHOOK_URL` / `NOTIFY_WEBHOOK_SECRET`: the notification gateway.
    pub notify_webhook_url: Option<String>,
    pub notify_webhook_secret: Option<String>,
    /// `OUTBOX_RETRY_BASE_SECS`: the first retry delay (then ×3, at most 6 h).
    pub retry_base: Duration,
    /// `WEBHOOK_ALLOW_PRIVATE`: partner webhooks may go to `http://` and private addresses.
    pub webhook_allow_private: bool,
    /// How unfinished allocations are finished (`Config::allocation_plan`).
    pub allocation: crate::app::allocation::Plan,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            tick: Duration::from_millis(1000),
            reminder_hours: vec![48, 2],
            notify_webhook_url: None,
            notify_webhook_secret: None,
            retry_base: Duration::from_secs(5),
            webhook_allow_private: false,
            allocation: crate::app::allocation::Plan::default(),
        }
    }
}

/// Rows each step takes per tick; the rest wait for the next one.
const BATCH: i64 = 200;
/// Deliveries are retried for at least a day.
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(26);

/// Runs forever (until the server stops). A failing step is logged and tried again on the
/// next tick; it never stops the others.
pub async fn run(pool: DbPool, cfg: JobsConfig, keys: VoucherKeys) {
    if !cfg.enabled {
        return std::future::pending().await;
    }
    let gateway = match (&cfg.notify_webhook_url, &cfg.notify_webhook_secret) {
        (Some(url), Some(secret)) => match deliver::Endpoint::new(url, secret) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!(error = %e, "NOTIFY_WEBHOOK_SECRET is unusable; notifications are not sent");
                None
            }
        },
        _ => None,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    loop {
        tokio::time::sleep(cfg.tick).await;
        let at = now();
        let (p, c, k) = (pool.clone(), cfg.clone(), keys.clone());
        match tokio::task::spawn_blocking(move || stored_work(&p, &c, &k, at)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "background step failed; retrying next tick"),
            Err(e) => tracing::warn!(error = %e, "background step panicked"),
        }
        // On its own, so a failing step above never stops the audit chain (and the
        // entries this tick wrote are chained in it).
        let sealed = db::run(&pool, |conn| {
            Ok::<_, anyhow::Error>(crate::domain::audit_chain::seal_all(conn)?)
        })
        .await;
        if let Err(e) = sealed {
            tracing::warn!(error = %e, "audit entries not chained; retrying next tick");
        }
        if let Err(e) = deliveries(&pool, &client, gateway.as_ref(), &keys, &cfg, at).await {
            tracing::warn!(error = %e, "outbox delivery failed; retrying next tick");
        }
        if let Err(e) = partner_deliveries(&pool, &client, &keys, &cfg, at).await {
            tracing::warn!(error = %e, "webhook delivery failed; retrying next tick");
        }
    }
}

/// Unfinished allocations, releases, returns and reminders: each unit of work in its own short transaction.
fn stored_work(
    pool: &DbPool,
    cfg: &JobsConfig,
    keys: &VoucherKeys,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let mut conn = pool.get()?;
    // An allocation a crash (or a failed batch) left unfinished; a minute's grace keeps
    // the jobs from doubling the work of a pass still running (it would be safe, only slow).
    for id in crate::domain::allocation::pending(&mut conn, now - chrono::Duration::minutes(1), BATCH)? {
        let generation = crate::domain::allocation::generation(&mut conn, &id)?;
        if let Err(e) =
            crate::app::allocation::run(&mut conn, &id, keys, cfg.allocation, None, generation, now)
        {
            tracing::warn!(campaign = %id, error = %e, "allocation not finished; retrying next tick");
        }
    }
    for id in releases::due_campaigns(&mut conn, now, BATCH)? {
        db::write_tx(&mut conn, |c| releases::release_due(c, &id, now))?;
    }
    for voucher in vouchers::expired_to_return(&mut conn, None, now, BATCH)? {
        db::write_tx(&mut conn, |c| expiry::return_voucher(c, &voucher, now))?;
    }
    // Nearest stage first: a voucher already inside the 2 h window gets that one reminder,
    // and the 48 h stage it skipped is recorded as sent, not sent as well.
    let mut stages = cfg.reminder_hours.clone();
    stages.sort_unstable();
    stages.dedup();
    for (i, &hours) in stages.iter().enumerate() {
        for id in expiry::due_reminders(&mut conn, hours, now, BATCH)? {
            db::write_tx(&mut conn, |c| {
                if expiry::remind_stage(c, &id, hours, now)? {
                    for &later in &stages[i + 1..] {
                        expiry::skip_stage(c, &id, later, now)?;
                    }
                }
                Ok::<_, anyhow::Error>(())
            })?;
        }
    }
    Ok(())
}

/// Delivers due gateway messages (or, with no gateway configured, sets them aside).
async fn deliveries(
    pool: &DbPool,
    client: &reqwest::Client,
    gateway: Option<&deliver::Endpoint>,
    keys: &VoucherKeys,
    cfg: &JobsConfig,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let Some(endpoint) = gateway else {
        db::run(pool, move |conn| {
            Ok::<_, anyhow::Error>(outbox::discard_for(conn, outbox::GATEWAY, now)?)
        })
        .await?;
        return Ok(());
    };
    let leased = db::run(pool, move |conn| {
        Ok::<_, anyhow::Error>(outbox::lease_due(conn, outbox::GATEWAY, now, BATCH)?)
    })
    .await?;
    for mut message in leased {
        // A reset code exists only here, on its way out (see `app::passwords`).
        if message.event_type == passwords::RESET_EVENT {
            message.payload = passwords::fill_reset_code(keys, &message.payload);
        }
        let outcome = deliver::send(client, endpoint, &message).await;
        settle(pool, cfg, message, outcome, false).await?;
    }
    Ok(())
}

/// Records an attempt's outcome: delivered, or due again after the backoff (and, for
/// partner endpoints, one line in the delivery log).
async fn settle(
    pool: &DbPool,
    cfg: &JobsConfig,
    message: outbox::Message,
    outcome: Result<u16, deliver::Failure>,
    logged: bool,
) -> anyhow::Result<()> {
    let base = cfg.retry_base;
    db::run(pool, move |conn| {
        let at = crate::domain::now();
        if logged {
            let (status, error) = match &outcome {
                Ok(s) => (Some(*s), None),
                Err(f) => (f.status, Some(f.error.as_str())),
            };
            webhooks::log_attempt(
                conn,
                &message.id,
                message.attempts.saturating_add(1),
                status,
                error,
                at,
            )?;
        }
        match &outcome {
            Ok(_) => outbox::delivered(conn, &message.id, at)?,
            Err(f) => {
                let delay = chrono::Duration::from_std(deliver::backoff(base, message.attempts))
                    .unwrap_or(chrono::Duration::hours(6));
                outbox::failed(conn, &message, &f.error, delay, GIVE_UP_AFTER, at)?;
            }
        }
        Ok::<_, anyhow::Error>(())
    })
    .await
}

/// Delivers due partner events, each to its endpoint, its URL checked again first.
async fn partner_deliveries(
    pool: &DbPool,
    client: &reqwest::Client,
    keys: &VoucherKeys,
    cfg: &JobsConfig,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let leased = db::run(pool, move |conn| {
        Ok::<_, anyhow::Error>(outbox::lease_due(conn, "endpoint:%", now, BATCH)?)
    })
    .await?;
    for message in leased {
        let id = message
            .target
            .strip_prefix("endpoint:")
            .and_then(EndpointId::parse);
        let endpoint = match id {
            Some(id) => {
                db::run(pool, move |conn| {
                    Ok::<_, anyhow::Error>(webhooks::find(conn, &id)?)
                })
                .await?
            }
            None => None,
        };
        let outcome = match endpoint.filter(|e| e.deleted_at.is_none()) {
            None => Err(deliver::Failure::from("the endpoint was deleted".to_owned())),
            Some(e) => match ssrf::check(&e.url, cfg.webhook_allow_private).await {
                Err(why) => Err(deliver::Failure::from(format!("refused address: {why}"))),
                Ok(()) => match deliver::Endpoint::new(&e.url, &webhooks::secret(keys, &e.id)) {
                    Ok(target) => deliver::send(client, &target, &message).await,
                    Err(why) => Err(deliver::Failure::from(why)),
                },
            },
        };
        settle(pool, cfg, message, outcome, true).await?;
    }
    Ok(())
}
