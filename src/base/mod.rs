//! The foundation every layer may use: spans and diagnostics, their rendering,
//! calendar arithmetic, integers' digits without allocation, work spread over all cores and unified text diffs. Knows
//! nothing of SLOs or Prometheus.

pub mod calendar;
pub mod diagnostic;
pub mod digits;
pub mod parallel;
pub mod render;
pub mod text_diff;
