//! Builds the service: connections, state, routes, the bound listener, and the
//! background workers (outbox relay, timeout consumer, sweeper, payment
//! consumer, fulfilment retry, payment reconciliation, stock reconciliation),
//! run beside HTTP by `paychat_common::service`.

use std::sync::Arc;
use std::time::Duration;

use paychat_common::service::{self, Infra, Server, Worker};
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::amqp::Broker;
use crate::config::Config;
use crate::orders::writer::OrderWriter;
use crate::payments::Payments;
use crate::payments::gateway::{GatewayClient, GatewayPayment, PaymentPort};
use crate::payments::mail::Mailer;
use crate::state::AppState;
use crate::stock::{Stock, reconcile};
use crate::{
    code_console, codes, orders, payment_console, payments, products, refund, stats, stock,
    timeouts,
};

#[derive(OpenApi)]
#[openapi(info(
    title = "PayChat orders",
    description = "Products, stock, orders, timeouts, redemption codes and admin."
))]
struct ApiDoc;

pub struct Application {
    server: Server,
    pub state: AppState,
}

impl Application {
    /// The service with its real payment side: the gateway.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::assemble(config, None).await
    }

    /// The same, with the payment side given (tests pass their own).
    pub async fn build_with(config: Config, payment: Arc<dyn PaymentPort>) -> anyhow::Result<Self> {
        Self::assemble(config, Some(payment)).await
    }

    async fn assemble(
        config: Config,
        payment: Option<Arc<dyn PaymentPort>>,
    ) -> anyhow::Result<Self> {
        crate::money_metrics::register();
        let infra = Infra::connect(&config.common).await?;
        let gateway = Arc::new(GatewayClient::new(&config.payments)?);
        let payment = payment
            .unwrap_or_else(|| Arc::new(GatewayPayment::new(gateway.clone(), infra.db.clone())));
        let readiness = infra.readiness();
        let stock = Stock::new(infra.redis.clone(), infra.keys.clone());
        let broker = Broker::new(&config);
        let writer = OrderWriter::spawn(&infra.db, stock.clone());
        let state = AppState {
            sessions: infra.sessions,
            limiter: infra.limiter,
            ids: infra.ids,
            db: infra.db,
            redis: infra.redis,
            keys: infra.keys,
            writer,
            stock,
            broker: broker.clone(),
            outbox_wake: Arc::new(Notify::new()),
            payment,
            payments: Arc::new(Payments {
                gateway,
                mailer: Mailer::new(&config.payments)?,
            }),
            config: Arc::new(config),
        };

        // Redis may have lost its data, or another copy may have crashed between
        // a reservation and its commit: start from what the database says.
        match reconcile::run(&state.db, &state.stock, Duration::from_millis(200)).await {
            Ok(report) => tracing::info!(
                products = report.checked,
                differences = report.differences.len(),
                "stock reconciled at start"
            ),
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "stock reconciliation at start failed"
            ),
        }

        let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
            .merge(products::router())
            .merge(orders::router())
            .merge(codes::router())
            .merge(stock::router())
            .merge(payments::router())
            .merge(stats::router())
            .merge(refund::router())
            .merge(payment_console::router())
            .merge(code_console::router())
            .split_for_parts();
        let readiness = readiness.check("broker", move || {
            let broker = broker.clone();
            async move { broker.ping().await }
        });
        let options = service::http_options(&state.config.common)?;
        let router = service::router(api, state.clone(), readiness, options);
        let server = Server::bind(&state.config.orders.orders_bind, router).await?;
        Ok(Self { server, state })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Serves HTTP and runs the workers side by side; returns when the server
    /// stops (shutdown signal) or a worker ends, saying which.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let state = &self.state;
        let workers = vec![
            Worker::new("outbox relay", timeouts::outbox::relay(state.clone())),
            Worker::new("timeout consumer", timeouts::consumer::run(state.clone())),
            Worker::new("sweeper", timeouts::sweeper::run(state.clone())),
            Worker::new("payment consumer", payments::consumer::run(state.clone())),
            Worker::new("fulfilment retry", payments::retry::run(state.clone())),
            Worker::new(
                "payment reconciliation",
                payments::reconcile::run(state.clone()),
            ),
            Worker::new(
                "stock reconciliation",
                reconcile::run_periodically(
                    state.db.clone(),
                    state.stock.clone(),
                    Duration::from_secs(state.config.orders.stock_reconcile_interval_secs),
                ),
            ),
        ];
        self.server.run("orders", workers).await
    }
}
