//! `Backoff`: how long a waiting locker sleeps between attempts.
//!
//! A fixed 10 ms poll (the Python seed) makes waiters oversleep a lock that is held for about a
//! millisecond, and lets them retry in lockstep. Here the sleep starts in microseconds and
//! doubles to a low cap, with jitter so that waiters spread out. Polling has no queue, so
//! which waiter wins after a release is a race; left random, a waiter can lose many races in
//! a row (a geometric tail). To bound that tail, waiters age: once a waiter has waited longer
//! than a few turns, its sleep shrinks again in proportion to how long it has waited, so the
//! longest waiter polls fastest and tends to win the next release.
//! `benches/lock_contention.rs` measures the effect against a blocking `flock`.

use std::time::Duration;

/// First sleep.
const INITIAL: Duration = Duration::from_micros(20);
/// Longest sleep, well under the ~1 ms a durable replace holds the lock.
const CAP: Duration = Duration::from_micros(250);
/// Waiting longer than this starts ageing: sleeps shrink back towards `INITIAL`.
const AGEING_AFTER: Duration = Duration::from_millis(1);

/// Exponential backoff with "equal jitter" (each sleep uniform in `[step/2, step]`) and ageing.
#[derive(Debug)]
pub(crate) struct Backoff {
    step: Duration,
    rng: fastrand::Rng,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff { step: INITIAL, rng: fastrand::Rng::new() }
    }

    /// The next sleep for a waiter that has waited `waited` so far.
    pub(crate) fn next_sleep(&mut self, waited: Duration) -> Duration {
        let step = if waited > AGEING_AFTER {
            CAP.mul_f64((AGEING_AFTER.as_secs_f64() / waited.as_secs_f64()).powi(2)).max(INITIAL)
        } else {
            let step = self.step;
            self.step = (self.step * 2).min(CAP);
            step
        };
        let half = step / 2;
        half + half.mul_f64(self.rng.f64())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Backoff, CAP, INITIAL};

    #[test]
    fn grows_from_microseconds_to_the_cap_with_jitter() {
        let mut backoff = Backoff::new();
        let sleeps: Vec<_> = (0..20).map(|_| backoff.next_sleep(Duration::ZERO)).collect();
        assert!(sleeps[0] >= INITIAL / 2 && sleeps[0] <= INITIAL);
        assert!(sleeps.iter().all(|sleep| *sleep <= CAP));
        assert!(sleeps[19] >= CAP / 2, "reaches the cap");
        assert!(sleeps[10..].windows(2).any(|pair| pair[0] != pair[1]), "jittered");
    }

    #[test]
    fn long_waiters_poll_faster() {
        let mut backoff = Backoff::new();
        let at = |backoff: &mut Backoff, ms| backoff.next_sleep(Duration::from_millis(ms));
        assert!(at(&mut backoff, 4) <= CAP / 2);
        assert!(at(&mut backoff, 100) <= INITIAL);
    }
}
