//! Latency samples and the percentiles the table reports.

use std::time::Duration;

/// Latencies in nanoseconds; sorted once when read.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
    sorted: bool,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Samples {
            nanos: Vec::with_capacity(n),
            sorted: true,
        }
    }

    pub fn record(&mut self, d: Duration) {
        self.nanos
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.sorted = false;
    }

    pub fn merge(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.nanos.sort_unstable();
            self.sorted = true;
        }
    }

    /// The `p`-quantile (0 < p <= 1) by the nearest-rank method, in milliseconds.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        self.sort();
        if self.nanos.is_empty() {
            return f64::NAN;
        }
        let rank = (p * self.nanos.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.nanos.len()) - 1;
        self.nanos[index] as f64 / 1e6
    }

    pub fn median_ms(&mut self) -> f64 {
        self.percentile_ms(0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.record(Duration::from_millis(ms));
        }
        assert_eq!(s.percentile_ms(0.5), 50.0);
        assert_eq!(s.percentile_ms(0.99), 99.0);
        assert_eq!(s.percentile_ms(1.0), 100.0);
        assert!(Samples::default().percentile_ms(0.5).is_nan());
    }
}
