//! A concurrency limit that can shrink when the dashboard says "slow down".
//!
//! `buffer_unordered` fixes how many rows are in progress; this limit
//! decides how many of them may have a request on the wire. On a 429 the
//! limit is halved; after a quiet spell it grows back one step at a time
//! (additive increase, multiplicative decrease), never above the maximum.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long the limit stays lowered before it may grow by one.
pub const COOLDOWN: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct State {
    in_flight: usize,
    limit: usize,
    /// The limit may not grow before this instant.
    calm_after: Instant,
}

/// A lowerable limit on requests in flight.
#[derive(Debug)]
pub struct Limit {
    max: usize,
    state: Mutex<State>,
    freed: Notify,
}

/// A place in the limit, given back on drop.
#[derive(Debug)]
pub struct Permit<'a> {
    limit: &'a Limit,
}

impl Limit {
    /// A limit of `max` requests in flight (at least one).
    pub fn new(max: usize) -> Limit {
        let max = max.max(1);
        Limit {
            max,
            state: Mutex::new(State {
                in_flight: 0,
                limit: max,
                calm_after: Instant::now(),
            }),
            freed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current limit.
    pub fn current(&self) -> usize {
        self.state().limit
    }

    /// Waits for a place.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            // NOTE: the waiter is registered before the check, so a place
            // freed between the check and the wait still wakes us.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = self.state();
                if state.in_flight < state.limit {
                    state.in_flight += 1;
                    return Permit { limit: self };
                }
            }
            freed.await;
        }
    }

    /// The dashboard rate-limited us: halve the limit for a while.
    pub fn slow_down(&self) {
        let mut state = self.state();
        let lowered = (state.limit / 2).max(1);
        if lowered < state.limit {
            tracing::warn!(
                from = state.limit,
                to = lowered,
                "rate limited: lowering concurrency"
            );
        }
        state.limit = lowered;
        state.calm_after = Instant::now() + COOLDOWN;
    }

    /// A request went through: after the cooldown, grow by one.
    pub fn went_well(&self) {
        let mut state = self.state();
        if state.limit < self.max && Instant::now() >= state.calm_after {
            state.limit += 1;
            state.calm_after = Instant::now() + COOLDOWN;
            tracing::debug!(to = state.limit, "raising concurrency again");
            drop(state);
            self.freed.notify_one();
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limit.state().in_flight -= 1;
        self.limit.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_more_in_flight_than_the_limit() {
        let limit = Limit::new(2);
        let a = limit.acquire().await;
        let _b = limit.acquire().await;
        let third = limit.acquire();
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        drop(a);
        assert!(futures::poll!(third.as_mut()).is_ready());
    }

    #[tokio::test]
    async fn slowing_down_halves_and_never_reaches_zero() {
        let limit = Limit::new(8);
        limit.slow_down();
        assert_eq!(limit.current(), 4);
        for _ in 0..5 {
            limit.slow_down();
        }
        assert_eq!(limit.current(), 1);
        limit.went_well();
        assert_eq!(limit.current(), 1, "no growth inside the cooldown");
    }
}
