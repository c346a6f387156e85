//! Running the router on a listener the caller bound, over HTTPS (rustls, TLS 1.2 and 1.3) or
//! plain HTTP, until a shutdown future resolves; in-flight requests are allowed to finish.
//!
//! The accept loop is ours so that every connection is bounded (`[limits]`,
//! docs/configuration.md): at most `max_connections` at once (at the cap the loop stops
//! accepting and the kernel's listen queue holds the next until a slot frees); the TLS
//! handshake and each request head within `header_read_timeout` (hyper's own timer for the
//! head); no byte either way for `idle_timeout` and the connection is closed after the answers
//! in flight; request heads at most `max_header_bytes` and `max_headers` fields (hyper answers
//! 431).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt as _;

use super::config::LimitsConfig;
use super::state::IdpState;
use crate::keys::tls::TlsMaterial;

/// How long in-flight requests may take to finish once shutdown is asked for.
const DRAIN: Duration = Duration::from_secs(10);

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

/// What one server allows each connection, from `[limits]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The TLS handshake, and each HTTP/1 request head, must arrive within this.
    pub header_read_timeout: Duration,
    /// A connection with no byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Largest request head (request line and header fields), in bytes.
    pub max_header_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
    /// Most of an HTTP/2 request body read after its handler answered without reading it.
    pub max_body_bytes: usize,
}

impl ConnectionLimits {
    /// The limits `[limits]` sets.
    pub fn from_config(limits: &LimitsConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(limits.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(limits.idle_timeout_secs),
            max_connections: limits.max_connections,
            max_header_bytes: limits.max_header_bytes,
            max_headers: limits.max_headers,
            max_body_bytes: limits.max_body_bytes,
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self::from_config(&LimitsConfig::default())
    }
}

/// Serves the provider on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (for up to 10 s). The connection limits are the provider's `[limits]`.
pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<IdpState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let limits = ConnectionLimits::from_config(&state.config().limits);
    serve_app(
        listener,
        super::routes::router(state),
        tls,
        limits,
        shutdown,
    )
    .await
}

/// Serves any app the same way: the provider's routes merged with others (the platform's
/// demo pages) share one listener, one TLS configuration, one set of limits and one shutdown.
pub async fn serve_app(
    listener: std::net::TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let connections = Arc::new(Connections::new(app, tls, &limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot first: at the cap nothing is accepted, and the listen queue holds the rest.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors, or a connection reset before it was taken: the
                    // listener itself is fine, so wait a moment and go on.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connections = Arc::clone(&connections);
        let stopped = stopped.clone();
        tokio::spawn(async move {
            connections.serve(stream, peer, stopped).await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every slot back means every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
    Ok(())
}

/// What every connection shares: the app, the TLS acceptor and hyper's builders.
struct Connections {
    app: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    http1: hyper::server::conn::http1::Builder,
    http2: hyper::server::conn::http2::Builder<TokioExecutor>,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_body_bytes: usize,
}

impl Connections {
    fn new(
        app: axum::Router,
        tls: Option<Arc<rustls::ServerConfig>>,
        limits: &ConnectionLimits,
    ) -> Self {
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_header_size(limits.max_header_bytes);
        // hyper keeps the default number of fields on the stack and any other on the heap.
        if limits.max_headers != 100 {
            http1.max_headers(limits.max_headers);
        }
        let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
        Self {
            app,
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            http1,
            http2,
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            max_body_bytes: limits.max_body_bytes,
        }
    }

    /// Serves one connection to its end, or until shutdown and its answers in flight.
    async fn serve(&self, stream: TcpStream, peer: SocketAddr, stop: watch::Receiver<bool>) {
        // A response written in two pieces must not wait for a delayed ACK.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let stream = Tracked {
            inner: stream,
            activity: Arc::clone(&activity),
        };
        let app = self.app.clone();
        let busy = Arc::clone(&activity);
        let (drain_for, drain_bytes) = (self.header_read_timeout, self.max_body_bytes);
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let answering = Busy::new(&busy);
            let (mut request, unread) = Unread::wrap(request);
            request.extensions_mut().insert(ConnectInfo(peer));
            let answer = app.clone().oneshot(request);
            async move {
                let answer = answer.await;
                if let Some(rest) = unread.and_then(|slot| slot.lock().ok()?.take()) {
                    let _ = tokio::time::timeout(drain_for, drain(rest, drain_bytes)).await;
                }
                drop(answering);
                answer
            }
        });
        let Some(tls) = &self.tls else {
            let connection = self.http1.serve_connection(TokioIo::new(stream), service);
            return drive(connection, &activity, self.idle_timeout, stop).await;
        };
        let handshake = tokio::time::timeout(self.header_read_timeout, tls.accept(stream)).await;
        let stream = match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => return tracing::debug!(%peer, error = %err, "TLS handshake failed"),
            Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
        };
        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            let connection = self.http2.serve_connection(TokioIo::new(stream), service);
            drive(connection, &activity, self.idle_timeout, stop).await
        } else {
            let connection = self.http1.serve_connection(TokioIo::new(stream), service);
            drive(connection, &activity, self.idle_timeout, stop).await
        }
    }
}

/// A hyper connection of either version, which can be asked to finish.
trait Graceful: Future<Output = Result<(), hyper::Error>> {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for hyper::server::conn::http1::Connection<I, S>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::Connection::graceful_shutdown(self)
    }
}

impl<I, S, B> Graceful for hyper::server::conn::http2::Connection<I, S, TokioExecutor>
where
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http2::Connection::graceful_shutdown(self)
    }
}

/// Runs a connection until it ends, asking it to finish when it has been idle too long or
/// the server stops; once asked, it ends after the answers in flight (or at the drain limit).
async fn drive<C: Graceful>(
    connection: C,
    activity: &Activity,
    idle_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut connection = std::pin::pin!(connection);
    let finishing = loop {
        // While an answer is being made the clock is not running: look again a whole
        // timeout later (a slow answer past the timeout must not make this loop spin).
        let wait = if activity.answering() > 0 {
            idle_timeout
        } else {
            idle_timeout.saturating_sub(activity.quiet_for())
        };
        let stopping = tokio::select! {
            result = connection.as_mut() => break result,
            () = tokio::time::sleep(wait) => false,
            _ = stop.wait_for(|stopped| *stopped) => true,
        };
        // A slow answer being made is not idleness; its bytes will touch the clock.
        if stopping || (activity.answering() == 0 && activity.quiet_for() >= idle_timeout) {
            if !stopping {
                tracing::debug!("closing an idle connection");
            }
            connection.as_mut().graceful_shutdown();
            break match tokio::time::timeout(DRAIN, connection.as_mut()).await {
                Ok(result) => result,
                Err(_) => Ok(()),
            };
        }
    };
    if let Err(err) = finishing {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

/// When a connection last read or wrote a byte, in milliseconds from its start, and how many
/// of its requests are being answered.
struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    answering: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
        }
    }

    fn answering(&self) -> usize {
        self.answering.load(Ordering::Relaxed)
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// One request being answered, from its head to its answer's head.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.answering.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A request body handed back when its handler drops it unread, so that the rest of an HTTP/2
/// body is read before the answer goes out. Answering first is allowed (RFC 9113 §8.1), but
/// the stream is then reset, and some clients (curl 7.88 among them) drop an answer that
/// arrives with its reset: an early 401 or 413 would reach them as a broken connection.
struct Unread {
    body: Option<Incoming>,
    slot: Option<Slot>,
}

/// Where an unread HTTP/2 body is handed back.
type Slot = Arc<std::sync::Mutex<Option<Incoming>>>;

impl Unread {
    /// The request with its body wrapped, and the slot an unread HTTP/2 body lands in.
    fn wrap(request: hyper::Request<Incoming>) -> (hyper::Request<Unread>, Option<Slot>) {
        use hyper::body::Body as _;
        let slot = (request.version() == hyper::Version::HTTP_2 && !request.body().is_end_stream())
            .then(|| Arc::new(std::sync::Mutex::new(None)));
        let returned = slot.clone();
        let request = request.map(|body| Unread {
            body: Some(body),
            slot: returned,
        });
        (request, slot)
    }
}

impl hyper::body::Body for Unread {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        match self.body.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(|body| body.is_end_stream())
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.as_ref().map_or_else(
            || hyper::body::SizeHint::with_exact(0),
            |body| body.size_hint(),
        )
    }
}

impl Drop for Unread {
    fn drop(&mut self) {
        use hyper::body::Body as _;
        let (Some(body), Some(slot)) = (self.body.take(), &self.slot) else {
            return;
        };
        if !body.is_end_stream() {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(body);
            }
        }
    }
}

/// Reads and drops what is left of a body, up to `budget` bytes.
async fn drain(mut body: Incoming, mut budget: usize) {
    use hyper::body::Body as _;
    while budget > 0 {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                let read = frame.data_ref().map_or(0, |data| data.len());
                budget = budget.saturating_sub(read.max(1));
            }
            Some(Err(_)) | None => return,
        }
    }
}

/// A TCP stream that notes each byte read or written in its [`Activity`].
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
