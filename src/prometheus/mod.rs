//! A faithful re-implementation of the parts of the Prometheus ecosystem mlslo runs:
//! the PromQL engine, rule-group evaluation, Go's text/template as Prometheus and
//! Alertmanager run it, Alertmanager's configuration, routing and inhibition, and
//! promtool's rule unit tests. No SLO concept lives here: everything in this layer
//! would be true of any Prometheus rule file.

pub mod alertmanager;
pub mod gotemplate;
pub mod http_api;
pub mod model;
pub mod promql;
pub mod promtool_test;
pub mod ruler;
