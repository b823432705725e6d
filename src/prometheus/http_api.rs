//! Prometheus' HTTP API (`/api/v1/...`) as the tools read a server: instant queries and
//! the loaded configuration, behind a trait that the command line implements with its
//! HTTP client, so the tools that ask a server (backtest history, lint's live checks)
//! stay pure and are tested against a fake.
//!
//! Invariants: an answer is the response body as the server sent it (the API's JSON
//! envelope), decoded by the tool that asked; a failure is data ([`ApiError`]) whose
//! message never carries a credential; times on the wire are unix seconds with
//! milliseconds ([`api_time`]).

use std::fmt;
use std::future::Future;

/// A Prometheus-compatible query API: Prometheus, Thanos, Mimir's `/prometheus` prefix.
///
/// The futures borrow the server, so a caller may keep several in flight at once.
pub trait PrometheusApi {
    /// `/api/v1/query`: `query` evaluated at `at_ms` (the server's now when `None`).
    fn instant_query(
        &self,
        query: String,
        at_ms: Option<i64>,
    ) -> impl Future<Output = Result<String, ApiError>>;

    /// `/api/v1/status/config`: its `data.yaml` is the configuration the server runs.
    fn status_config(&self) -> impl Future<Output = Result<String, ApiError>>;
}

/// A request that got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The whole failure as printed: method, URL without user info, cause, attempts.
    pub message: String,
    /// The status and the start of the body, when the server answered with an error
    /// status (a 422 of a query that loads too many samples, say).
    pub status: Option<(u16, String)>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// A time as the API's `time`, `start` and `end` parameters take it: unix seconds with
/// milliseconds, such as `1700000000.123`.
pub fn api_time(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let magnitude = ms.unsigned_abs();
    format!("{sign}{}.{:03}", magnitude / 1000, magnitude % 1000)
}

/// An in-memory server for the tools' unit tests, and the executor that drives it.
#[cfg(test)]
pub(crate) mod fake {
    use super::{ApiError, PrometheusApi};
    use std::cell::{Cell, RefCell};
    use std::future::Future;
    use std::pin::Pin;
    use std::rc::Rc;
    use std::task::{Context, Poll, Waker};

    /// How the fake answers one query: the answer, and how many polls it takes to come
    /// (so tests can make answers arrive in another order than they were asked).
    pub type Answer = (Result<String, ApiError>, usize);

    /// The fake's answer to a query at a time.
    type Answering = dyn Fn(&str, Option<i64>) -> Answer;

    /// Answers queries with a function of (query, at_ms), records every request and
    /// counts the requests in flight.
    pub struct FakeApi {
        answer: Box<Answering>,
        pub config: Result<String, ApiError>,
        pub asked: RefCell<Vec<(String, Option<i64>)>>,
        in_flight: Rc<Cell<usize>>,
        pub most_in_flight: Rc<Cell<usize>>,
    }

    impl FakeApi {
        pub fn new(answer: impl Fn(&str, Option<i64>) -> Answer + 'static) -> FakeApi {
            FakeApi {
                answer: Box::new(answer),
                config: Ok(String::new()),
                asked: RefCell::new(Vec::new()),
                in_flight: Rc::new(Cell::new(0)),
                most_in_flight: Rc::new(Cell::new(0)),
            }
        }
    }

    impl PrometheusApi for FakeApi {
        fn instant_query(
            &self,
            query: String,
            at_ms: Option<i64>,
        ) -> impl Future<Output = Result<String, ApiError>> {
            let (outcome, polls) = (self.answer)(&query, at_ms);
            self.asked.borrow_mut().push((query, at_ms));
            self.in_flight.set(self.in_flight.get() + 1);
            self.most_in_flight
                .set(self.most_in_flight.get().max(self.in_flight.get()));
            Delayed {
                outcome: Some(outcome),
                polls_left: polls,
                in_flight: Rc::clone(&self.in_flight),
            }
        }

        fn status_config(&self) -> impl Future<Output = Result<String, ApiError>> {
            std::future::ready(self.config.clone())
        }
    }

    /// Ready after a number of polls; leaves the in-flight count when done or dropped.
    struct Delayed {
        outcome: Option<Result<String, ApiError>>,
        polls_left: usize,
        in_flight: Rc<Cell<usize>>,
    }

    impl Future for Delayed {
        type Output = Result<String, ApiError>;

        fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
            if self.polls_left > 0 {
                self.polls_left -= 1;
                context.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.in_flight.set(self.in_flight.get() - 1);
            Poll::Ready(
                self.outcome
                    .take()
                    .expect("a future is not polled after Ready"),
            )
        }
    }

    impl Drop for Delayed {
        fn drop(&mut self) {
            if self.outcome.is_some() {
                self.in_flight.set(self.in_flight.get() - 1);
            }
        }
    }

    /// Polls `future` until it is ready: enough for futures of [`FakeApi`], which never
    /// wait on anything but polls. Fails after a million polls rather than hang.
    pub fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        for _ in 0..1_000_000 {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
        panic!("the future did not finish within a million polls")
    }

    /// A failure as the command line's client reports a status.
    pub fn status_error(status: u16, body: &str) -> ApiError {
        ApiError {
            message: format!("POST http://fake/api/v1/query: HTTP {status}: {body}"),
            status: Some((status, body.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_times_keep_milliseconds() {
        assert_eq!(api_time(1_700_000_000_123), "1700000000.123");
        assert_eq!(api_time(0), "0.000");
        assert_eq!(api_time(-1), "-0.001");
    }
}
