//! Verification of the alerting system the compiler generates, run by every
//! command that checks `.slo` files (`check`, `build`, `lint`, `backtest`):
//! the generated alerts are routed through the generated `alertmanager.yml`
//! with the runtime's Alertmanager, and every receiver's templates are
//! executed as Alertmanager executes them, so that a configuration that loads
//! but silently notifies no one is refused before it is deployed.
//!
//! Invariants: runs only on a program without errors, and reads it through
//! the same emitters `build` uses (alert labels and annotations from
//! `emit::prometheus` and `emit::watcher`, the route tree from
//! `emit::alertmanager`), so what it proves holds for the generated files.
//! Its codes are the checker's (E0600 to E0603, W0600, W0601, W0641, W0642, W0701,
//! W0702, W0720); every
//! diagnostic has a span on the `.slo` source and a help. Deterministic:
//! diagnostics come out in the order of services, objectives and receivers.
//!
//! Layout: `alerts` lists the generated alerts; `routing_coverage` routes
//! them and judges the routes; `group_isolation` judges the user's inhibit
//! rules and `group_by` against grouped objectives; `notification_templates`
//! renders the receivers' templates for a sample of the alerts each receiver
//! gets; `cardinality` counts the series each objective's recording rules write.

mod alerts;
pub mod cardinality;
mod group_isolation;
mod notification_templates;
mod routing_coverage;

use crate::base::diagnostic::Diagnostic;
use crate::compiler::ir::Program;
use cardinality::CardinalityLimits;

/// Every diagnostic about the generated alerting system of `program`, not
/// sorted, with the default bounds.
pub fn verify(program: &Program) -> Vec<Diagnostic> {
    verify_with(program, &CardinalityLimits::default())
}

/// [`verify`] with the bounds of `.mlslo.toml`'s `[check]` table.
pub fn verify_with(program: &Program, limits: &CardinalityLimits) -> Vec<Diagnostic> {
    let alerts = alerts::generated_alerts(program);
    let mut found = Vec::new();
    cardinality::check_series_bound(program, limits, &mut found);
    let routed = routing_coverage::check_routing(program, &alerts, &mut found);
    group_isolation::check_group_isolation(program, &alerts, &mut found);
    notification_templates::check_templates(program, &alerts, routed.as_ref(), &mut found);
    found
}
