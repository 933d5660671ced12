//! Response bodies the fault modes need: whole, trickled one byte per second, or a large
//! generated stream that is never held in memory.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};

const CHUNK: usize = 64 * 1024;
static SPACES: [u8; CHUNK] = [b' '; CHUNK];

pub(crate) enum Body {
    Whole(Option<Bytes>),
    /// `remaining` bytes, one per second.
    Trickle {
        remaining: u64,
        sleep: Pin<Box<tokio::time::Sleep>>,
    },
    /// `remaining` bytes of filler; `exact` false means chunked transfer (no Content-Length).
    Stream {
        remaining: u64,
        exact: bool,
    },
}

impl Body {
    pub(crate) fn whole(bytes: impl Into<Bytes>) -> Body {
        Body::Whole(Some(bytes.into()))
    }

    pub(crate) fn trickle(len: u64) -> Body {
        Body::Trickle {
            remaining: len,
            sleep: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Trickle { remaining, sleep } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                ready!(sleep.as_mut().poll(cx));
                *remaining -= 1;
                sleep
                    .as_mut()
                    .reset(tokio::time::Instant::now() + Duration::from_secs(1));
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b" ")))))
            }
            Body::Stream { remaining, .. } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let n = (*remaining).min(CHUNK as u64) as usize;
                *remaining -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&SPACES[..n])))))
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Whole(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Body::Trickle { remaining, .. } => SizeHint::with_exact(*remaining),
            Body::Stream {
                remaining,
                exact: true,
            } => SizeHint::with_exact(*remaining),
            Body::Stream { .. } => SizeHint::default(),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Whole(bytes) => bytes.is_none(),
            Body::Trickle { remaining, .. } | Body::Stream { remaining, .. } => *remaining == 0,
        }
    }
}
