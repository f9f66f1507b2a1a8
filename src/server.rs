//! The HTTP/1.1 server: actix-http over actix-server, as `actix_web::HttpServer` builds
//! it, plus one thing it cannot do.
//!
//! actix-http answers a request it cannot parse itself — a raw non-ASCII byte in the
//! request line (`?region_code=台州` typed into curl), a header block too large, a request
//! line that never completes — with an empty 400, 431 or 408, before any of our code runs
//! and with no hook to change it. The contract wants problem+json for those too (v1.1,
//! "Validation errors"). [`ProblemIo`] wraps each connection and rewrites exactly those
//! bare answers on their way out. Our own error answers always carry a body, so a bodiless
//! 400/408/431 can only be the parser's.

use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{h1::H1Service, HttpService, KeepAlive, Request, Response};
use actix_rt::net::TcpStream;
use actix_server::Server;
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt as _};
use actix_web::dev::AppConfig;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ErrorCode;

/// Serves `make_app`'s application on `listener` with `workers` threads; SIGTERM stops
/// accepting and lets in-flight requests finish (30 s). The bounds are `HttpServer`'s.
pub fn serve<F, I, S, B>(listener: TcpListener, workers: usize, make_app: F) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    Ok(Server::build()
        .workers(workers)
        .shutdown_timeout(30)
        .listen("zhijian", listener, move || {
            let app = make_app()
                .into_factory()
                .map_err(|err| err.into().error_response());
            // actix-web's defaults for `HttpServer`.
            let h1: H1Service<ProblemIo, _, B> = HttpService::build()
                .keep_alive(KeepAlive::Timeout(Duration::from_secs(5)))
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(addr)
                .h1(map_config(app, |()| AppConfig::default()));
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok((ProblemIo::new(io), peer))
            })
            .and_then(h1)
        })?
        .run())
}

/// A connection whose bare parser rejections leave as problem+json.
pub struct ProblemIo {
    inner: TcpStream,
    /// A rewritten answer still being written, and how much of it is out.
    pending: Vec<u8>,
    sent: usize,
}

impl ProblemIo {
    fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }

    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ProblemIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ProblemIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(replacement) = rewrite(buf) {
            self.pending = replacement;
            // Taken whole; what the socket does not take now goes on the next flush.
            if let Poll::Ready(Err(e)) = self.drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The problem+json answer for a bare parser rejection in `buf`, or `None` for anything
/// else (every answer of ours).
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if head_end + 4 != buf.len() || !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    let head = std::str::from_utf8(&buf[..head_end]).ok()?.to_ascii_lowercase();
    if !head.lines().any(|l| l.trim() == "content-length: 0") {
        return None;
    }
    let (code, detail) = match head.get(9..12)? {
        "400" => (
            ErrorCode::InvalidRequest,
            "请求无法解析：网址中的中文等字符须按 UTF-8 百分号编码（如 台 写作 %E5%8F%B0），请求头不能含控制字符",
        ),
        "408" => (ErrorCode::RequestTimeout, "请求没有在规定时间内发送完整，请重试"),
        "431" => (ErrorCode::HeadersTooLarge, "请求头过大，请减少或缩短请求头"),
        _ => return None,
    };
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut problem = json!({
        "type": "about:blank", "title": code.title(), "status": code.status().as_u16(),
        "code": code.as_str(), "detail": detail, "request_id": request_id,
    });
    if code == ErrorCode::InvalidRequest {
        problem["errors"] = json!([{"field": "request", "message": detail}]);
    }
    let body = problem.to_string();
    let status = code.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         x-request-id: {request_id}\r\nx-content-type-options: nosniff\r\ncache-control: no-store\r\n\
         connection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_parser_rejections_are_rewritten() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
        assert!(out.contains("application/problem+json") && out.contains("\"code\":\"INVALID_REQUEST\""));
        let timeout = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n";
        assert!(String::from_utf8(rewrite(timeout).unwrap())
            .unwrap()
            .contains("REQUEST_TIMEOUT"));
        for ours in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n{\"code\":\"x\"}"[..],
            b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n",
        ] {
            assert!(rewrite(ours).is_none());
        }
    }
}
