//! Logs (JSON lines by default, through `tracing`), optional trace export over
//! OTLP/HTTP, and the Prometheus recorder.

use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{CommonConfig, LogFormat};

static PROVIDER: Mutex<Option<SdkTracerProvider>> = Mutex::new(None);

/// Installs the global subscriber once; later calls (tests start many apps in
/// one process) are no-ops. With `otlp_endpoint` set, spans are also exported.
pub fn init_logging(config: &CommonConfig) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = if config.log_format == LogFormat::Pretty {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .boxed()
    };
    let otel = match otlp_provider(&config.otlp_endpoint) {
        Ok(Some(provider)) => {
            let tracer = provider.tracer("paychat");
            *PROVIDER.lock().unwrap_or_else(|p| p.into_inner()) = Some(provider);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!("trace export disabled: {e:#}");
            None
        }
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .with(filter)
        .try_init();
}

fn otlp_provider(endpoint: &str) -> anyhow::Result<Option<SdkTracerProvider>> {
    if endpoint.is_empty() {
        return Ok(None);
    }
    let endpoint = endpoint.to_owned();
    let service = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "paychat".into());
    // The exporter's blocking HTTP client must be built (and later dropped)
    // outside the async runtime; its batch processor runs on its own thread.
    std::thread::spawn(move || -> anyhow::Result<SdkTracerProvider> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()?;
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(service).build())
            .build())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("building the OTLP exporter panicked"))?
    .map(Some)
}

/// Flushes and stops trace export; called when a service stops.
pub fn shutdown() {
    let provider = PROVIDER.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(provider) = provider {
        // Flushing blocks on HTTP: keep it off the async runtime's threads.
        let _ = std::thread::spawn(move || provider.shutdown()).join();
    }
}

/// The process-wide Prometheus recorder; `render()` it on `/metrics`.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder is installed; then ours stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
