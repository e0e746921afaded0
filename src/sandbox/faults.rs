//! Deciding, per request, which faults hit it.
//!
//! Every request draws the same three numbers (hang, save error, save drop)
//! from one seeded generator as it arrives, whatever its endpoint, so the
//! sequence of faults depends only on the seed and the arrival order.

use std::sync::Mutex;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::{Duration, Instant};

use super::options::Faults;
use super::store::lock;

/// What was drawn for one request. The save faults only take effect on an
/// authenticated save; the handler reads them from the request extensions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rolls {
    /// Wait `hang_for` before processing.
    pub hang: bool,
    /// Answer a save with `save_error_status`.
    pub save_error: bool,
    /// Drop the connection after processing a save.
    pub save_drop: bool,
    /// Over the rate limit: answer 429.
    pub rate_limited: bool,
}

/// The fault settings plus the state the draws need.
#[derive(Debug)]
pub struct FaultEngine {
    pub settings: Faults,
    rng: Mutex<SmallRng>,
    window: Mutex<Window>,
}

/// The current rate-limit window.
#[derive(Debug)]
struct Window {
    started: Instant,
    count: u32,
}

/// A rate-limit window's length.
const WINDOW: Duration = Duration::from_secs(1);

impl FaultEngine {
    /// An engine for `settings`, its generator seeded with `seed`.
    pub fn new(settings: Faults, seed: u64) -> FaultEngine {
        FaultEngine {
            settings,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            window: Mutex::new(Window {
                started: Instant::now(),
                count: 0,
            }),
        }
    }

    /// Draws the faults for a request arriving now.
    pub fn roll(&self) -> Rolls {
        let (hang, save_error, save_drop) = {
            let mut rng = lock(&self.rng);
            (
                hit(&mut rng, self.settings.hang_rate),
                hit(&mut rng, self.settings.save_error_rate),
                hit(&mut rng, self.settings.save_drop_rate),
            )
        };
        Rolls {
            hang,
            save_error,
            save_drop,
            rate_limited: self.over_rate_limit(),
        }
    }

    /// Counts the request in the current window; true if it is over budget.
    fn over_rate_limit(&self) -> bool {
        let Some(limit) = self.settings.rate_limit else {
            return false;
        };
        let now = Instant::now();
        let mut window = lock(&self.window);
        if now.duration_since(window.started) >= WINDOW {
            window.started = now;
            window.count = 0;
        }
        window.count = window.count.saturating_add(1);
        window.count > limit.per_second
    }
}

/// Whether a draw falls under `rate`. `random()` is in `[0, 1)`, so 0.0
/// never hits and 1.0 always does.
fn hit(rng: &mut SmallRng, rate: f64) -> bool {
    rng.random::<f64>() < rate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::RateLimit;

    fn engine(faults: Faults, seed: u64) -> FaultEngine {
        FaultEngine::new(faults, seed)
    }

    #[test]
    fn same_seed_gives_same_sequence() {
        let faults = Faults {
            hang_rate: 0.5,
            save_error_rate: 0.5,
            save_drop_rate: 0.5,
            ..Faults::default()
        };
        let first: Vec<Rolls> = (0..50).map(|_| engine(faults.clone(), 7).roll()).collect();
        let a = engine(faults.clone(), 7);
        let b = engine(faults, 7);
        let seq_a: Vec<Rolls> = (0..50).map(|_| a.roll()).collect();
        let seq_b: Vec<Rolls> = (0..50).map(|_| b.roll()).collect();
        assert_eq!(seq_a, seq_b);
        assert!(seq_a.iter().any(|r| r.hang) && seq_a.iter().any(|r| !r.hang));
        // A fresh engine each time always repeats the first draw.
        assert!(first.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn rates_zero_and_one_are_exact() {
        let never = engine(Faults::default(), 1);
        assert!((0..100).all(|_| never.roll() == Rolls::default()));
        let always = engine(
            Faults {
                hang_rate: 1.0,
                save_error_rate: 1.0,
                save_drop_rate: 1.0,
                ..Faults::default()
            },
            1,
        );
        assert!(
            (0..100)
                .map(|_| always.roll())
                .all(|r| r.hang && r.save_error && r.save_drop)
        );
    }

    #[test]
    fn rate_limit_rejects_beyond_budget_in_one_window() {
        let limited = engine(
            Faults {
                rate_limit: Some(RateLimit {
                    per_second: 3,
                    retry_after_secs: 1,
                }),
                ..Faults::default()
            },
            1,
        );
        // The window is a second long; these calls take microseconds.
        let limited: Vec<bool> = (0..5).map(|_| limited.roll().rate_limited).collect();
        assert_eq!(limited, [false, false, false, true, true]);
    }
}
