//! The proxy's client: one request forwarded to its receiver, over plain TCP or TLS
//! (rustls on `ring`, webpki roots plus `--upstream-ca`), on a small per-receiver
//! pool of keep-alive connections. Nothing is re-serialised: the body goes as it came.

use crate::http::{strip_hop_by_hop, Relayed};
use crate::journal::UpstreamError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, HOST};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;

/// Idle connections kept per receiver; more are closed once answered.
const POOL: usize = 32;
/// An idle connection older than this is closed, not reused: many servers close theirs
/// after 5 s (Node's default), and a request sent as they do would be lost.
const IDLE: Duration = Duration::from_secs(4);

/// A receiver's URL, parsed once at start.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    https: bool,
    host: String,
    port: u16,
    /// `host[:port]`: the `Host` header of every forwarded request.
    host_header: HeaderValue,
    /// The path and query every request goes to (origin form).
    origin: hyper::Uri,
    /// `scheme://host:port`: the connections that can be shared.
    key: String,
}

impl Target {
    /// An `http://` or `https://` URL with a host; an error says what is wrong.
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| format!("upstream {url:?} is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("upstream {url:?} must start with http:// or https://")),
        };
        let (Some(host), Some(authority)) = (uri.host(), uri.authority()) else {
            return Err(format!("upstream {url:?} names no host"));
        };
        // Parsed once here, so forwarding a request parses nothing.
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("upstream {url:?}: bad host: {e}"))?;
        let origin: hyper::Uri = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| format!("upstream {url:?}: bad path: {e}"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let key = format!("{}://{host}:{port}", if https { "https" } else { "http" });
        Ok(Target {
            https,
            host,
            port,
            host_header,
            origin,
            key,
        })
    }
}

/// A kept-alive connection to a receiver, and since when it has been idle.
type Idle = (Instant, SendRequest<Full<Bytes>>);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Forwards requests; shared by every connection of the proxy.
pub(crate) struct Forwarder {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    max_body: usize,
    idle: Mutex<HashMap<String, Vec<Idle>>>,
}

impl Forwarder {
    /// A forwarder trusting the webpki roots and the certificates in `extra_ca` (PEM).
    pub fn new(extra_ca: Option<&Path>, timeout: Duration, max_body: usize) -> Result<Forwarder, String> {
        Ok(Forwarder {
            tls: Arc::new(tls_config(extra_ca)?),
            timeout,
            max_body,
            idle: Mutex::new(HashMap::new()),
        })
    }

    /// Forwards one request and reads the answer whole, within the upstream timeout.
    /// `head` keeps the sender's method, headers and their case (hop-by-hop headers and
    /// `Host` are replaced here).
    pub async fn forward(
        &self,
        target: &Target,
        head: hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<Relayed, UpstreamError> {
        match tokio::time::timeout(self.timeout, self.exchange(target, head, body)).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::Timeout),
        }
    }

    async fn exchange(
        &self,
        target: &Target,
        head: hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<Relayed, UpstreamError> {
        let mut req = hyper::Request::from_parts(head, Full::new(body));
        *req.version_mut() = hyper::Version::HTTP_11;
        *req.uri_mut() = target.origin.clone();
        // Host first, as clients write it; the sender's headers after it, in its order.
        let mut headers = HeaderMap::with_capacity(req.headers().len() + 1);
        headers.insert(HOST, target.host_header.clone());
        strip_hop_by_hop(req.headers_mut());
        for (n, v) in req.headers().iter().filter(|(n, _)| *n != HOST) {
            headers.append(n.clone(), v.clone());
        }
        *req.headers_mut() = headers;
        let mut pooled = self.pooled(target);
        let answer = loop {
            // A kept connection finishes its previous exchange first; one that closed
            // meanwhile is replaced.
            let kept = match pooled.take() {
                Some(mut s) => s.ready().await.is_ok().then_some(s),
                None => None,
            };
            let (mut sender, reused) = match kept {
                Some(s) => (s, true),
                None => (self.connect(target).await?, false),
            };
            match sender.try_send_request(req).await {
                Ok(a) => break (a, sender),
                Err(mut e) => match e.take_message() {
                    // Never written (a pooled connection the receiver had closed): it
                    // goes once on a fresh connection, so nothing reaches it twice.
                    Some(back) if reused => req = back,
                    _ => return Err(UpstreamError::Protocol(e.into_error().to_string())),
                },
            }
        };
        let (answer, sender) = answer;
        let (parts, incoming) = answer.into_parts();
        let body = match Limited::new(incoming, self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return Err(UpstreamError::TooLarge)
            }
            Err(e) => return Err(UpstreamError::Protocol(e.to_string())),
        };
        let close = parts
            .headers
            .get_all(CONNECTION)
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        if !close {
            self.put_back(target, sender);
        }
        Ok(Relayed { parts, body })
    }

    fn pooled(&self, target: &Target) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.get_mut(&target.key)?;
        while let Some((at, s)) = list.pop() {
            if at.elapsed() < IDLE && !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_back(&self, target: &Target, s: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.entry(target.key.clone()).or_default();
        list.retain(|(at, s)| at.elapsed() < IDLE && !s.is_closed());
        if list.len() < POOL {
            list.push((Instant::now(), s));
        }
    }

    async fn connect(&self, target: &Target) -> Result<SendRequest<Full<Bytes>>, UpstreamError> {
        let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| UpstreamError::Connect(format!("{}:{}: {e}", target.host, target.port)))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if target.https {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| UpstreamError::Tls(format!("{}: {e}", target.host)))?;
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| UpstreamError::Tls(tls_hint(&e)))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .preserve_header_case(true)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        tokio::spawn(conn);
        Ok(sender)
    }
}

/// A handshake error, with what to do about an untrusted certificate.
fn tls_hint(e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("UnknownIssuer") || text.contains("certificate") {
        format!("{text} (if the receiver's certificate is self-signed or from a private CA, pass that CA with --upstream-ca FILE)")
    } else {
        text
    }
}

/// The TLS client settings: rustls on `ring`, the webpki roots and `extra_ca`.
fn tls_config(extra_ca: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let shown = path.display();
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read --upstream-ca {shown}: {e}"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--upstream-ca {shown} is not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err(format!(
                "--upstream-ca {shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
            ));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("--upstream-ca {shown}: a certificate was refused: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_say_why() {
        let t = Target::parse("https://example.test/hook?k=1").unwrap();
        assert!(t.https);
        assert_eq!((t.port, t.origin.to_string().as_str()), (443, "/hook?k=1"));
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (
                t.port,
                t.host_header.to_str().unwrap(),
                t.origin.to_string().as_str()
            ),
            (8080, "127.0.0.1:8080", "/")
        );
        assert!(Target::parse("ftp://x/").unwrap_err().contains("http://"));
        assert!(Target::parse("not a url").is_err());
    }
}
