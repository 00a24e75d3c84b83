//! Strict HTTP/1 framing, checked on a connection's bytes as they arrive.
//!
//! hyper parses request heads with httparse, which takes a bare LF as a line
//! ending (RFC 9112 §2.2 lets a recipient do so) and has no switch to refuse it.
//! A proxy in front that ends lines only at CRLF frames the same bytes
//! differently: a request hidden in what the proxy forwards as one request is
//! then executed here (request smuggling). [`StrictIo`] wraps each connection's
//! socket and follows its framing byte by byte: it finds the end of every
//! request head, takes the body's length from `Content-Length` or walks its
//! chunked framing, and refuses a request whose head or chunked framing has
//!
//! - a bare LF or a bare CR (every line ends in CRLF),
//! - a folded header line (obs-fold),
//! - a `Content-Length` that is not one plain decimal, or two of them,
//! - a `Transfer-Encoding` other than exactly `chunked`, two of them, or one
//!   together with `Content-Length`.
//!
//! hyper refuses most of the last three itself; checking them here too keeps
//! the two parsers agreeing on where every request ends. From a refused
//! request's offending byte on, hyper reads one NUL byte and then the end of
//! the stream: httparse rejects NUL anywhere in a head, and hyper's chunked
//! decoder anywhere in chunked framing, so hyper answers 400 and closes the
//! connection, and nothing after that byte is ever parsed.
//!
//! The wrapper also times request heads: a client has `header_timeout` from
//! the connection's start (first request) or from a head's first byte (later
//! requests) to finish it, or the connection is closed.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Bytes kept of each head line: more than the names and values that frame a
/// body ever need (a longer `Content-Length` line is refused).
const LINE_PREFIX: usize = 256;

/// Hex digits of a chunk size: hyper's decoder reads the size into a `u64`.
const MAX_CHUNK_SIZE_DIGITS: usize = 16;

/// Why a request's framing is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An LF not preceded by CR.
    #[error("a bare LF ends a line")]
    BareLf,
    /// A CR not followed by LF.
    #[error("a bare CR in a line")]
    BareCr,
    /// A header line starting with whitespace (obs-fold).
    #[error("a folded header line")]
    ObsFold,
    /// `Content-Length` is not one plain decimal.
    #[error("an invalid or repeated Content-Length")]
    ContentLength,
    /// `Transfer-Encoding` is not exactly one `chunked`.
    #[error("a Transfer-Encoding other than one `chunked`")]
    TransferEncoding,
    /// Both `Content-Length` and `Transfer-Encoding`.
    #[error("both Content-Length and Transfer-Encoding")]
    LengthAndEncoding,
    /// A chunk-size line that is not hex digits, optionally followed by extensions.
    #[error("an invalid chunk size line")]
    ChunkSize,
    /// Chunk data not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    ChunkEnd,
}

/// Where a connection's byte stream is.
#[derive(Debug)]
enum State {
    /// In a request head (or between requests, before its first byte).
    Head(Head),
    /// In a body of known length.
    Body { remaining: u64 },
    /// In a chunked body.
    Chunked(Chunk),
    /// A request was refused: nothing more is read.
    Refused(Refusal),
}

/// What a head has said so far.
#[derive(Debug, Default)]
struct Head {
    /// Some byte of this head has arrived (leading CRLFs count).
    started: bool,
    /// The request line is complete.
    request_line: bool,
    content_length: Option<u64>,
    chunked: bool,
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// In a chunk-size line.
    Size,
    /// In a chunk's data.
    Data {
        remaining: u64,
    },
    /// After a chunk's data: CR, then LF.
    DataCr,
    DataLf,
    /// In the trailer section after the last chunk, until an empty line.
    Trailers,
}

/// The line being read: its first [`LINE_PREFIX`] bytes, and whether a CR was the last byte.
#[derive(Debug, Default)]
struct Line {
    kept: Vec<u8>,
    truncated: bool,
    cr: bool,
}

impl Line {
    /// Takes one byte; `Ok(true)` when it completes the line (CRLF, not kept).
    fn push(&mut self, byte: u8) -> Result<bool, Refusal> {
        match (self.cr, byte) {
            (true, b'\n') => {
                self.cr = false;
                Ok(true)
            }
            (true, _) => Err(Refusal::BareCr),
            (false, b'\r') => {
                self.cr = true;
                Ok(false)
            }
            (false, b'\n') => Err(Refusal::BareLf),
            (false, _) => {
                if self.kept.len() < LINE_PREFIX {
                    self.kept.push(byte);
                } else {
                    self.truncated = true;
                }
                Ok(false)
            }
        }
    }

    fn clear(&mut self) {
        self.kept.clear();
        self.truncated = false;
    }
}

/// Follows the HTTP/1 framing of one connection's incoming bytes.
#[derive(Debug)]
pub struct Framing {
    state: State,
    line: Line,
    /// No request head has been completed yet.
    first: bool,
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            state: State::Head(Head::default()),
            line: Line::default(),
            first: true,
        }
    }
}

impl Framing {
    /// Takes the next bytes of the stream. On a refusal, returns the offending
    /// byte's index in `bytes`; the stream is refused from there on.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), (usize, Refusal)> {
        let mut i = 0;
        while i < bytes.len() {
            let rest = (bytes.len() - i) as u64;
            match &mut self.state {
                State::Refused(refusal) => return Err((i, *refusal)),
                State::Body { remaining } => {
                    let n = (*remaining).min(rest);
                    *remaining -= n;
                    i += n as usize;
                    if *remaining == 0 {
                        self.state = State::Head(Head::default());
                    }
                }
                State::Chunked(Chunk::Data { remaining }) => {
                    let n = (*remaining).min(rest);
                    *remaining -= n;
                    i += n as usize;
                    if *remaining == 0 {
                        self.state = State::Chunked(Chunk::DataCr);
                    }
                }
                _ => {
                    if let Err(refusal) = self.byte(bytes[i]) {
                        self.state = State::Refused(refusal);
                        return Err((i, refusal));
                    }
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// Whether a request head is being read: the first one from the start,
    /// later ones from their first byte.
    pub fn in_head(&self) -> bool {
        matches!(&self.state, State::Head(head) if head.started || self.first)
    }

    /// Whether a request was refused.
    pub fn refused(&self) -> bool {
        matches!(self.state, State::Refused(_))
    }

    /// One byte of a head or of chunked framing.
    fn byte(&mut self, byte: u8) -> Result<(), Refusal> {
        match &mut self.state {
            State::Head(head) => {
                head.started = true;
                if self.line.push(byte)? {
                    self.head_line()?;
                    self.line.clear();
                }
            }
            State::Chunked(Chunk::Size) => {
                if self.line.push(byte)? {
                    let size = chunk_size(&self.line)?;
                    self.line.clear();
                    self.state = State::Chunked(if size == 0 {
                        Chunk::Trailers
                    } else {
                        Chunk::Data { remaining: size }
                    });
                }
            }
            State::Chunked(Chunk::DataCr) => {
                if byte != b'\r' {
                    return Err(Refusal::ChunkEnd);
                }
                self.state = State::Chunked(Chunk::DataLf);
            }
            State::Chunked(Chunk::DataLf) => {
                if byte != b'\n' {
                    return Err(Refusal::ChunkEnd);
                }
                self.state = State::Chunked(Chunk::Size);
            }
            State::Chunked(Chunk::Trailers) => {
                if self.line.push(byte)? {
                    if self.line.kept.is_empty() && !self.line.truncated {
                        self.state = State::Head(Head::default());
                    } else if matches!(self.line.kept.first(), Some(b' ' | b'\t')) {
                        return Err(Refusal::ObsFold);
                    }
                    self.line.clear();
                }
            }
            // Skipped in bulk by `feed`, which also never feeds a refused stream.
            State::Body { .. } | State::Chunked(Chunk::Data { .. }) | State::Refused(_) => {}
        }
        Ok(())
    }

    /// A complete line of a head.
    fn head_line(&mut self) -> Result<(), Refusal> {
        let State::Head(head) = &mut self.state else {
            return Ok(());
        };
        let line = &self.line;
        let empty = line.kept.is_empty() && !line.truncated;
        if !head.request_line {
            // Empty lines before a request line are ignored (RFC 9112 §2.2).
            head.request_line = !empty;
            return Ok(());
        }
        if empty {
            self.first = false;
            self.state = match (head.content_length, head.chunked) {
                (Some(_), true) => return Err(Refusal::LengthAndEncoding),
                (None, true) => State::Chunked(Chunk::Size),
                (Some(length), false) if length > 0 => State::Body { remaining: length },
                _ => State::Head(Head::default()),
            };
            return Ok(());
        }
        if matches!(line.kept.first(), Some(b' ' | b'\t')) {
            return Err(Refusal::ObsFold);
        }
        // A name not in the kept prefix is longer than any that frames a body;
        // hyper judges such lines.
        let Some(colon) = line.kept.iter().position(|&b| b == b':') else {
            return Ok(());
        };
        let (name, value) = (&line.kept[..colon], line.kept[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            let plain = !line.truncated
                && !value.is_empty()
                && value.iter().all(u8::is_ascii_digit)
                && head.content_length.is_none();
            let length = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok());
            match length {
                Some(length) if plain => head.content_length = Some(length),
                _ => return Err(Refusal::ContentLength),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if line.truncated || head.chunked || !value.eq_ignore_ascii_case(b"chunked") {
                return Err(Refusal::TransferEncoding);
            }
            head.chunked = true;
        }
        Ok(())
    }
}

/// The size on a complete chunk-size line: hex digits, then optionally
/// whitespace and `;` extensions (which hyper ignores).
fn chunk_size(line: &Line) -> Result<u64, Refusal> {
    let digits = line
        .kept
        .iter()
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if digits == 0 || digits > MAX_CHUNK_SIZE_DIGITS {
        return Err(Refusal::ChunkSize);
    }
    let rest = &line.kept[digits..];
    let space = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let ends_here = space == rest.len() && !line.truncated;
    if !(ends_here || rest.get(space) == Some(&b';')) {
        return Err(Refusal::ChunkSize);
    }
    let text = std::str::from_utf8(&line.kept[..digits]).map_err(|_| Refusal::ChunkSize)?;
    u64::from_str_radix(text, 16).map_err(|_| Refusal::ChunkSize)
}

/// A connection's socket, with its framing checked and its request heads timed.
pub struct StrictIo<T> {
    inner: T,
    framing: Framing,
    header_timeout: Duration,
    /// When the head being read must be complete.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> StrictIo<T> {
    /// Wraps a freshly accepted connection: its first head is timed from now.
    pub fn new(inner: T, header_timeout: Duration) -> Self {
        Self {
            inner,
            framing: Framing::default(),
            header_timeout,
            deadline: Some(Box::pin(tokio::time::sleep(header_timeout))),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StrictIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.framing.refused() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if let Err((at, refusal)) = this.framing.feed(&buf.filled()[before..]) {
                    tracing::debug!(%refusal, "refusing a request's framing");
                    buf.set_filled(before + at);
                    buf.put_slice(b"\0");
                    this.deadline = None;
                } else if !this.framing.in_head() {
                    this.deadline = None;
                } else if this.deadline.is_none() {
                    this.deadline = Some(Box::pin(tokio::time::sleep(this.header_timeout)));
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request head did not arrive within --header-read-timeout-secs",
                    )));
                }
                Poll::Pending
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StrictIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` whole and one byte at a time; both must agree.
    fn check(stream: &[u8]) -> Result<(), (usize, Refusal)> {
        let whole = Framing::default().feed(stream);
        let mut framing = Framing::default();
        let mut bytewise = Ok(());
        for (i, byte) in stream.iter().enumerate() {
            if let Err((_, refusal)) = framing.feed(std::slice::from_ref(byte)) {
                bytewise = Err((i, refusal));
                break;
            }
        }
        assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(stream));
        whole
    }

    fn refusal(stream: &str) -> Refusal {
        check(stream.as_bytes()).expect_err(stream).1
    }

    #[test]
    fn crlf_requests_pass_pipelined_with_bodies_of_both_kinds() {
        let stream = b"\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n\
            POST /embed HTTP/1.1\r\nHost: a\r\ncontent-length: 5\r\n\r\nab\ncd\
            PUT /x HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3;ext=1\r\na\nb\r\nA \r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n\
            GET / HTTP/1.1\r\n\r\n";
        assert_eq!(check(stream), Ok(()));
        let mut framing = Framing::default();
        framing.feed(stream).expect("valid");
        assert!(!framing.in_head(), "between requests, no head is timed");
        framing.feed(b"G").expect("valid");
        assert!(framing.in_head());
    }

    #[test]
    fn the_first_head_is_timed_from_the_start() {
        let framing = Framing::default();
        assert!(framing.in_head());
    }

    #[test]
    fn bare_line_endings_are_refused_wherever_they_are() {
        for stream in [
            "GET /healthz HTTP/1.1\nHost: a\n\nDELETE /collections/docs HTTP/1.1\n\n",
            "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\n",
            "\nGET / HTTP/1.1\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\nGET / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(refusal(stream), Refusal::BareLf, "{stream:?}");
        }
        assert_eq!(refusal("GET / HTTP/1.1\rHost: a\r\n\r\n"), Refusal::BareCr);
    }

    #[test]
    fn the_offending_byte_is_located() {
        let stream = b"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\nHost: a\r\n\r\n";
        let at = stream.iter().rposition(|&b| b == b'1').expect("1") + 1;
        assert_eq!(check(stream), Err((at, Refusal::BareLf)));
    }

    #[test]
    fn ambiguous_lengths_and_encodings_are_refused() {
        for (stream, want) in [
            (
                "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                Refusal::ContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n",
                Refusal::ContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
                Refusal::ContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                Refusal::ContentLength,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                Refusal::LengthAndEncoding,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                Refusal::TransferEncoding,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                Refusal::TransferEncoding,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
                Refusal::TransferEncoding,
            ),
            (
                "POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n",
                Refusal::ObsFold,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n",
                Refusal::ChunkSize,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
                Refusal::ChunkSize,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n",
                Refusal::ChunkSize,
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
                Refusal::ChunkEnd,
            ),
        ] {
            assert_eq!(refusal(stream), want, "{stream:?}");
        }
    }

    #[test]
    fn a_long_content_length_line_is_refused_and_other_long_lines_pass() {
        let padded = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}5\r\n\r\n",
            " ".repeat(LINE_PREFIX)
        );
        assert_eq!(refusal(&padded), Refusal::ContentLength);
        let long = format!(
            "GET /{} HTTP/1.1\r\nX-Long: {}\r\n{}: 1\r\n\r\n",
            "a".repeat(4 * LINE_PREFIX),
            "b".repeat(4 * LINE_PREFIX),
            "c".repeat(4 * LINE_PREFIX)
        );
        assert_eq!(check(long.as_bytes()), Ok(()));
    }

    #[test]
    fn nothing_passes_after_a_refusal() {
        let mut framing = Framing::default();
        assert!(framing.feed(b"GET / HTTP/1.1\n").is_err());
        assert!(framing.refused());
        assert_eq!(framing.feed(b"\r\n"), Err((0, Refusal::BareLf)));
        assert!(!framing.in_head());
    }
}
