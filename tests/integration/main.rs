//! The integration tests, in one binary: every module below was its own test binary, and
//! each linked the whole crate with reqwest, tokio and rustls, so linking dominated the
//! build. Run one module with `cargo test --test integration lint::`; `tests/README.md`
//! says what each module covers.

mod alertmanager;
mod alertmanager_routing;
mod architecture;
mod backtest;
mod backtest_compare;
mod backtest_prometheus;
mod backtest_report;
mod backtest_scores;
mod bounds;
mod build_atomic;
mod check_lint_build;
mod cli;
mod deploy_fakes;
mod deploy_grafana;
mod deploy_prometheus;
mod diagnostics;
mod emit_alertmanager;
mod emit_generated;
mod emit_prometheus;
mod expression_slis;
mod forecasts;
mod grafana_dashboards;
mod grammar;
mod grouped_objectives;
mod lint;
mod lint_live;
mod monitoring;
mod parser_props;
mod promqltest;
mod promtool3_conformance;
mod promtool_conformance;
mod promtool_diff;
mod routes_cli;
mod scenarios;
mod sloth_labels;
mod support;
mod template;
mod text_diff;
mod tidy;
mod unittest_cli;
mod unittest_promtool;
mod verify_alerting;
