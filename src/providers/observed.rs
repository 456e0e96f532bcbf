//! Any provider, measured: each call's latency and outcome goes to the metrics
//! (`aisha_provider_call_duration_seconds`, `aisha_provider_calls_total`).

use std::{sync::Arc, time::Instant};

use bytes::Bytes;

use super::{ImageProvider, JobSpec, ProducedFile, ProviderError, ProviderHandle, ProviderStatus, TextRequest};
use crate::metrics::Metrics;

pub struct Observed {
    inner: Arc<dyn ImageProvider>,
    metrics: Arc<Metrics>,
}

impl Observed {
    pub fn new(inner: Arc<dyn ImageProvider>, metrics: Arc<Metrics>) -> Self {
        Observed { inner, metrics }
    }

    async fn measure<T>(
        &self,
        call: &'static str,
        run: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let started = Instant::now();
        let result = run.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(ProviderError::Transient(_)) => "transient",
            Err(ProviderError::Failed(_)) => "failed",
            Err(ProviderError::Blocked) => "blocked",
        };
        self.metrics.record_provider_call(self.inner.name(), call, outcome, started.elapsed());
        result
    }
}

#[async_trait::async_trait]
impl ImageProvider for Observed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn uses_webhooks(&self) -> bool {
        self.inner.uses_webhooks()
    }

    async fn submit(&self, spec: &JobSpec) -> Result<ProviderHandle, ProviderError> {
        self.measure("submit", self.inner.submit(spec)).await
    }

    async fn status(&self, spec: &JobSpec, handle: &ProviderHandle) -> Result<ProviderStatus, ProviderError> {
        self.measure("status", self.inner.status(spec, handle)).await
    }

    async fn result(&self, spec: &JobSpec, handle: &ProviderHandle) -> Result<Vec<ProducedFile>, ProviderError> {
        self.measure("result", self.inner.result(spec, handle)).await
    }

    async fn files_from_output(&self, output: &serde_json::Value) -> Result<Vec<ProducedFile>, ProviderError> {
        self.measure("files_from_output", self.inner.files_from_output(output)).await
    }

    async fn cancel(&self, handle: &ProviderHandle) -> Result<(), ProviderError> {
        self.measure("cancel", self.inner.cancel(handle)).await
    }

    async fn upload(&self, name: &str, bytes: Bytes, content_type: &str) -> Result<Option<String>, ProviderError> {
        self.measure("upload", self.inner.upload(name, bytes, content_type)).await
    }

    async fn complete_text(&self, request: &TextRequest) -> Result<String, ProviderError> {
        self.measure("complete_text", self.inner.complete_text(request)).await
    }
}
