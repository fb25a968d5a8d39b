//! The tab engine's virtual clock: the engine's time runs at a chosen speed of the wall clock
//! (×0.25 to ×100), stops when paused, and steps forward by hand while paused. The engine never
//! reads a clock; the worker passes it this one's time, so a 45 s session timeout can pass in
//! under a second, or be watched one step at a time.

use kite_shared::api::{MAX_CLOCK_SPEED_PERCENT, MIN_CLOCK_SPEED_PERCENT};

/// The longest single step (an hour).
pub const MAX_CLOCK_STEP_MS: i64 = 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VirtualClock {
    /// The virtual time at `at_real`, and the wall clock then.
    at_virtual_ms: i64,
    at_real_ms: f64,
    speed_percent: u32,
    paused: bool,
}

impl VirtualClock {
    /// A clock at the wall clock's time, running at real speed.
    pub fn new(real_ms: f64) -> VirtualClock {
        VirtualClock { at_virtual_ms: real_ms as i64, at_real_ms: real_ms, speed_percent: 100, paused: false }
    }

    /// A clock reading `virtual_ms` when the wall clock says `real_ms`, running at real speed.
    pub fn at(virtual_ms: i64, real_ms: f64) -> VirtualClock {
        VirtualClock { at_virtual_ms: virtual_ms, ..VirtualClock::new(real_ms) }
    }

    /// Moves the clock forward to `virtual_ms` (never back), e.g. past a scenario's waits.
    pub fn jump_to(&mut self, virtual_ms: i64, real_ms: f64) {
        self.rebase(real_ms);
        self.at_virtual_ms = self.at_virtual_ms.max(virtual_ms);
    }

    /// The virtual time when the wall clock says `real_ms`; it never goes back.
    pub fn now(&self, real_ms: f64) -> i64 {
        if self.paused {
            return self.at_virtual_ms;
        }
        let elapsed = (real_ms - self.at_real_ms).max(0.0);
        self.at_virtual_ms + (elapsed * f64::from(self.speed_percent) / 100.0) as i64
    }

    pub fn speed_percent(&self) -> u32 {
        self.speed_percent
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Starts a new stretch at `real_ms` from where the clock is.
    fn rebase(&mut self, real_ms: f64) {
        self.at_virtual_ms = self.now(real_ms);
        self.at_real_ms = real_ms;
    }

    pub fn set_speed(&mut self, real_ms: f64, speed_percent: u32) -> Result<(), String> {
        if !(MIN_CLOCK_SPEED_PERCENT..=MAX_CLOCK_SPEED_PERCENT).contains(&speed_percent) {
            return Err(format!(
                "speed_percent {speed_percent} is outside {MIN_CLOCK_SPEED_PERCENT}..={MAX_CLOCK_SPEED_PERCENT} (×0.25 to ×100)"
            ));
        }
        self.rebase(real_ms);
        self.speed_percent = speed_percent;
        Ok(())
    }

    pub fn set_paused(&mut self, real_ms: f64, paused: bool) {
        self.rebase(real_ms);
        self.paused = paused;
    }

    /// Moves a paused clock `step_ms` forward and returns its new time.
    pub fn step(&mut self, step_ms: i64) -> Result<i64, String> {
        if !self.paused {
            return Err("the clock runs: pause it before stepping".into());
        }
        if !(1..=MAX_CLOCK_STEP_MS).contains(&step_ms) {
            return Err(format!("step_ms {step_ms} is outside 1..={MAX_CLOCK_STEP_MS}"));
        }
        self.at_virtual_ms += step_ms;
        Ok(self.at_virtual_ms)
    }
}
