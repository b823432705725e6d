//! The PromQL evaluator over in-memory float series.
