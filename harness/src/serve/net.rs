//! The listener: TCP on tokio, TLS by rustls, HTTP/1.1 and HTTP/2 by
//! hyper, each request handed to the axum router with the TLS peer
//! certificate as a request extension. On shutdown the listener closes,
//! every connection is told to finish (HTTP/2 GOAWAY, HTTP/1 close after
//! the request in flight), and the server waits for them up to a grace
//! period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mdm_apple::http::TlsPeerCertificate;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves, then finishes
/// the requests in flight (at most `grace`). Returns how many connections
/// were still open when the grace period ended.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> usize {
    let acceptor = TlsAcceptor::from(tls);
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a sender; when all are gone, recv ends.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let open = Arc::new(());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of descriptors and the like: wait, do not spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, router, mut stop) = (acceptor.clone(), router.clone(), stop_rx.clone());
                let (held, count) = (open_tx.clone(), Arc::clone(&open));
                tokio::spawn(async move {
                    let _held = (held, count);
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let peer_certificate = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|c| TlsPeerCertificate(Arc::new(c.to_vec())));
                    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                        if let Some(certificate) = &peer_certificate {
                            request.extensions_mut().insert(certificate.clone());
                        }
                        router.clone().oneshot(request)
                    });
                    let builder = auto::Builder::new(TokioExecutor::new());
                    let connection = builder.serve_connection(TokioIo::new(tls), service);
                    tokio::pin!(connection);
                    tokio::select! {
                        result = connection.as_mut() => {
                            if let Err(e) = result {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        }
                        _ = stop.changed() => {
                            connection.as_mut().graceful_shutdown();
                            if let Err(e) = connection.await {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_tx);
    if tokio::time::timeout(grace, open_rx.recv()).await.is_err() {
        let left = Arc::strong_count(&open).saturating_sub(1);
        tracing::warn!(connections = left, "grace period over: connections cut");
        return left;
    }
    0
}
