//! HTTP plumbing the capture server and the proxy's forwarder share: which headers are
//! about one connection only, a receiver's answer read whole, and headers as the
//! journal records them. Nothing here answers or judges anything.

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, CONNECTION};

/// Headers that describe one connection, not the message (RFC 9110 7.6.1): never
/// forwarded nor relayed, nor is any header the `Connection` header names.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Removes the hop-by-hop headers (and those `Connection` names), keeping the others
/// in their order (`HeaderMap::remove` would move the last header into the gap).
pub(crate) fn strip_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    let drop =
        |n: &HeaderName| HOP_BY_HOP.contains(&n.as_str()) || n.as_str() == "upgrade" || named.contains(n);
    if !h.keys().any(drop) {
        return;
    }
    let mut kept = HeaderMap::with_capacity(h.len());
    for (n, v) in h.iter().filter(|(n, _)| !drop(n)) {
        kept.append(n.clone(), v.clone());
    }
    *h = kept;
}

/// A receiver's answer, read whole.
pub(crate) struct Relayed {
    pub parts: hyper::http::response::Parts,
    pub body: Bytes,
}

/// Headers as text, in arrival order (names as hyper reports them: lowercase).
pub(crate) fn text_headers(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_go() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        strip_hop_by_hop(&mut h);
        let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        assert_eq!(left, ["content-type"]);
    }
}
