//! Running the router on a listener the caller bound, over HTTPS (rustls, TLS 1.2 and 1.3) or
//! plain HTTP, until a shutdown future resolves; in-flight requests are allowed to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::state::IdpState;
use crate::keys::tls::TlsMaterial;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The TLS material could not be turned into a server configuration.
    #[error("TLS: {0}")]
    Tls(String),
    /// The listener failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A rustls server configuration (ring, TLS 1.2+, h2 and http/1.1) from PEM material.
pub fn tls_config(material: &TlsMaterial) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let certs = CertificateDer::pem_slice_iter(material.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(material.key_pem.as_bytes())
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the provider on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (for up to 10 s).
pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<IdpState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_app(listener, super::routes::router(state), tls, shutdown).await
}

/// Serves any app the same way: the provider's routes merged with others (the platform's
/// demo pages) share one listener, one TLS configuration and one shutdown.
pub async fn serve_app(
    listener: std::net::TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    // TCP_NODELAY: a response written in two pieces must not wait for a delayed ACK.
    let nodelay = axum_server::accept::NoDelayAcceptor::new();
    match tls {
        Some(config) => {
            let acceptor =
                axum_server::tls_rustls::RustlsAcceptor::new(RustlsConfig::from_config(config))
                    .acceptor(nodelay);
            axum_server::from_tcp(listener)
                .acceptor(acceptor)
                .handle(handle)
                .serve(app)
                .await?
        }
        None => {
            axum_server::from_tcp(listener)
                .acceptor(nodelay)
                .handle(handle)
                .serve(app)
                .await?
        }
    }
    Ok(())
}
