//! The worker's connection to the coordinator: TLS or mutual TLS, the bearer token and the trace
//! context on every call, retried until the coordinator answers.

use std::time::Duration;

use tacefusion_proto::MAX_MESSAGE_BYTES;
use tacefusion_proto::v1::coordinator_client::CoordinatorClient;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};

use crate::pull::WorkerError;

/// TLS of a client: the CA that signed the coordinator's certificate, and the client's own
/// certificate and key (PEM) when the coordinator requires client certificates (mutual TLS).
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// CA certificate (PEM) of the coordinator's certificate.
    pub ca: Option<Vec<u8>>,
    /// Client certificate and key (PEM).
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// Adds to every call the bearer token and the trace context of the calling span.
#[derive(Debug, Clone)]
pub struct CallHeaders(pub Option<String>);

impl Interceptor for CallHeaders {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(t) = &self.0 {
            let value = format!("Bearer {t}").parse().map_err(|_| Status::invalid_argument("the token is not valid header text"))?;
            request.metadata_mut().insert("authorization", value);
        }
        tacefusion_proto::trace::inject_current(request.metadata_mut());
        Ok(request)
    }
}

/// A client of the coordinator.
pub type Client = CoordinatorClient<InterceptedService<Channel, CallHeaders>>;

/// Connects to the coordinator, retrying until `timeout`.
pub async fn connect(url: &str, token: Option<String>, tls: &ClientTls, timeout: Duration) -> Result<Client, WorkerError> {
    let err = |detail: String| WorkerError::Coordinator { url: url.to_string(), detail };
    // tonic uses TLS only for https:// URLs: TLS options with http:// would send the token in clear
    let https = url.starts_with("https://");
    if (tls.ca.is_some() || tls.identity.is_some()) != https {
        return Err(err("TLS options (--ca, --tls-cert, --tls-key) need an https:// URL, and an https:// URL needs --ca".into()));
    }
    let mut endpoint = Endpoint::from_shared(url.to_string()).map_err(|e| err(e.to_string()))?.connect_timeout(Duration::from_secs(5));
    if https {
        let mut config = ClientTlsConfig::new();
        if let Some(ca) = &tls.ca {
            config = config.ca_certificate(Certificate::from_pem(ca));
        }
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(config).map_err(|e| err(e.to_string()))?;
    }
    let start = tokio::time::Instant::now();
    let mut wait = Duration::from_millis(50);
    loop {
        match endpoint.connect().await {
            Ok(channel) => {
                return Ok(CoordinatorClient::with_interceptor(channel, CallHeaders(token))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES));
            }
            Err(e) if start.elapsed() >= timeout => return Err(err(format!("unreachable for {:?}: {e}", timeout))),
            Err(_) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}
