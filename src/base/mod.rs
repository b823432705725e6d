//! The foundation every layer may use: spans and diagnostics, their rendering,
//! calendar arithmetic and work spread over all cores. Knows nothing of SLOs or
//! Prometheus.

pub mod calendar;
pub mod diagnostic;
pub mod parallel;
pub mod render;
