//! Error budgets and burn windows: the objective, its window, the traffic guard
//! and the page and ticket burn-rate windows of every budgeted objective kind.
//!
//! Rules (each has a code and a test): an objective is strictly between 0% and
//! 100% (E0401), as 100% leaves no error budget and every burn-rate threshold
//! would be zero; each burn window has `short < long` (E0402) and `long < window`
//! (E0403); a window that is not written needs a `factor` unless it is one of the
//! workbook's long windows (E0210); a burn-rate alert whose threshold is above a
//! 100% error ratio can never fire (W0005), as with a 90% objective and a 14.4×
//! factor; an objective whose window fits no default burn window gets no alert
//! at all (W0008); a factor below 1 fires while the objective is met (W0610); a
//! written `min_traffic` at which the window's budget holds less than one event
//! leaves the objective unmeasurable (W0611).
//!
//! Defaults: `window = 30d`; burn windows from `ir::burn_rate` (the SRE
//! workbook), keeping only those whose long window is shorter than the
//! objective window, with factors scaled to the window; a traffic guard derived
//! per burn window (`ir::BurnWindow::derived_min_traffic`) unless `min_traffic`
//! says otherwise (`min_traffic = none` for no guard).

use crate::base::diagnostic::{Span, Spanned};
use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, Fields, Schema};
use crate::compiler::check::values::Unit;
use crate::compiler::ir::burn_rate::{burn_factor, default_budget_consumed, DEFAULT_BURN_WINDOWS};
use crate::compiler::ir::{self, naming, Decimal, Duration, Tier};
use crate::compiler::syntax::ast;
use crate::prometheus::model::names::is_legacy_metric_name;

const DEFAULT_OBJECTIVE_WINDOW: Duration = Duration::days(30);

impl Checker {
    /// The objective, window, traffic guard and burn windows of a budgeted kind.
    pub fn check_budget(&mut self, fields: &Fields<'_>) -> Option<ir::Budget> {
        let mut all_good = true;
        let objective_value = fields.require(self, "objective");
        let objective = objective_value.and_then(|value| {
            let fraction = self.read_percent("objective", value)?;
            if fraction <= Decimal::ZERO || fraction >= Decimal::ONE {
                let help = if fraction >= Decimal::ONE {
                    "an objective of 100% leaves no error budget: every failure would page; use 99.9% or similar"
                } else {
                    "the objective is the share of good events, such as 99.9%"
                };
                self.push(
                    codes::OBJECTIVE_OUT_OF_RANGE.at(value.span,
                        "the objective must be strictly between 0% and 100%",
                    )
                    .with_help(help),
                );
                return None;
            }
            Some(fraction)
        });
        let window = self.duration_field(
            fields,
            "window",
            Some(DEFAULT_OBJECTIVE_WINDOW),
            true,
            &mut all_good,
        );
        let traffic_guard = match self.read_traffic_guard(fields) {
            Some(guard) => guard.unwrap_or(ir::TrafficGuard::Derived),
            None => {
                all_good = false;
                ir::TrafficGuard::Off
            }
        };
        let tiers = match fields.value("alerts") {
            Some(value) => self.read_alert_tiers(value).unwrap_or_else(|| {
                all_good = false;
                vec![Tier::Page, Tier::Ticket]
            }),
            None => vec![Tier::Page, Tier::Ticket],
        };
        let alerts_enabled = !tiers.is_empty();
        let burn_alert = match fields.value("burn_alert") {
            Some(value) => self.read_burn_alert_name(value).unwrap_or_else(|| {
                all_good = false;
                String::new()
            }),
            None => naming::ALERT_BUDGET_BURN.to_owned(),
        };
        let (Some(objective), Some((window, window_span))) = (objective, window) else {
            return None;
        };
        let error_budget = Decimal::ONE.checked_sub(objective)?;
        let budget_alerts = self.check_budget_alerts(fields, window);
        all_good &= budget_alerts.is_some();
        let mut page = Vec::new();
        let mut ticket = Vec::new();
        for (tier, windows) in [(Tier::Page, &mut page), (Tier::Ticket, &mut ticket)] {
            let tier_block = fields.block(tier.as_str());
            // `alerts = false` keeps every window recorded (dashboards read them);
            // a tier left out of a list has no windows, and so no alert.
            if alerts_enabled && !tiers.contains(&tier) {
                if let Some(tier_block) = tier_block {
                    self.push(
                        codes::TIER_BLOCK_OF_DISABLED_TIER
                            .at(
                                tier_block.kind.span,
                                format!("the {} tier is switched off by `alerts`", tier.as_str()),
                            )
                            .with_help(format!(
                                "add {} to the `alerts` list, or remove this block",
                                tier.as_str()
                            )),
                    );
                }
                continue;
            }
            match tier_block {
                Some(tier_block) => match self.check_tier(tier, tier_block, window, window_span) {
                    Some(checked) => *windows = checked,
                    None => all_good = false,
                },
                None => *windows = default_windows(tier, window, TierSettings::default()),
            }
        }
        if alerts_enabled && all_good && page.is_empty() && ticket.is_empty() {
            self.push(
                codes::NO_BURN_WINDOW_FITS.at(window_span.unwrap_or(fields.owner_span),
                    format!(
                        "every default burn window is at least as long as the {} window",
                        window.to_plain_string()
                    ),
                )
                .with_note("the shortest default window is 1h (page); this objective gets no burn-rate alert")
                .with_help(
                    "lengthen the window, give a tier its own `burn { long = ..., short = ..., factor = ... }`, \
                     or write `alerts = false` to say that no alert is wanted",
                ),
            );
        }
        if alerts_enabled {
            for (tier, burn) in page
                .iter()
                .map(|w| (Tier::Page, w))
                .chain(ticket.iter().map(|w| (Tier::Ticket, w)))
            {
                let Some(threshold) = burn.factor.checked_mul(error_budget) else {
                    continue;
                };
                if threshold >= Decimal::ONE {
                    let span = burn
                        .span
                        .or(objective_value.map(|value| value.span))
                        .unwrap_or(fields.owner_span);
                    self.push(
                        codes::BURN_ALERT_NEVER_FIRES.at(span,
                            format!(
                                "the {} alert over {}/{} needs an error ratio above {threshold} ({}× a {error_budget} budget)",
                                tier.as_str(),
                                burn.long.to_plain_string(),
                                burn.short.to_plain_string(),
                                burn.factor
                            ),
                        )
                        .with_note("an error ratio cannot exceed 1 (every event failing)")
                        .with_help("raise the objective, lengthen the objective window, or give this tier a smaller `factor`"),
                    );
                }
            }
        }
        if alerts_enabled {
            self.check_factors_above_one(&page, &ticket, window, window_span, fields.owner_span);
        }
        let budget = ir::Budget {
            objective,
            error_budget,
            window,
            traffic_guard,
            alerts_enabled,
            burn_alert,
            page,
            ticket,
            budget_alerts: budget_alerts.unwrap_or_default(),
        };
        if alerts_enabled {
            let span = fields
                .value("min_traffic")
                .map_or(fields.owner_span, |value| value.span);
            self.check_budget_holds_an_event(&budget, span);
        }
        all_good.then_some(budget)
    }

    /// A burn factor below 1 fires on an error rate that, kept up for the whole
    /// objective window, still meets the objective (W0610). A factor of exactly 1,
    /// the workbook's 3-day ticket over 30 days, fires only above the sustainable
    /// rate, because the alert compares with `>`.
    fn check_factors_above_one(
        &mut self,
        page: &[ir::BurnWindow],
        ticket: &[ir::BurnWindow],
        window: Duration,
        window_span: Option<Span>,
        owner_span: Span,
    ) {
        for (tier, burn) in page
            .iter()
            .map(|w| (Tier::Page, w))
            .chain(ticket.iter().map(|w| (Tier::Ticket, w)))
        {
            if burn.factor >= Decimal::ONE {
                continue;
            }
            let mut diagnostic = codes::BURN_FACTOR_BELOW_ONE.at(
                burn.span.or(window_span).unwrap_or(owner_span),
                format!(
                    "the {} alert over {}/{} fires at {}× the sustainable error rate",
                    tier.as_str(),
                    burn.long.to_plain_string(),
                    burn.short.to_plain_string(),
                    burn.factor
                ),
            )
            .with_note(format!(
                "an error rate {}× the budget's, kept up for the whole {} window, still meets the objective: this alert fires while the objective is being met",
                burn.factor,
                window.to_plain_string()
            ));
            if burn.span.is_none() {
                diagnostic = diagnostic.with_note(format!(
                    "the workbook spends {}% of the budget in {}; over a {} window that is a factor of {}",
                    burn.budget_consumed
                        .and_then(|consumed| consumed.scaled_by_power_of_ten(2))
                        .map_or_else(String::new, |percent| percent.to_string()),
                    burn.long.to_plain_string(),
                    window.to_plain_string(),
                    burn.factor
                ));
            }
            self.push(diagnostic.with_help(format!(
                "give the {} tier explicit windows with a factor of at least 1, such as `{} {{ burn {{ long = 1d, short = 2h, factor = 1 }} }}`, or lengthen the objective window",
                tier.as_str(),
                tier.as_str()
            )));
        }
    }

    /// At the least traffic the guard lets alert, the objective window's error
    /// budget must hold at least one event; otherwise one failure misses the
    /// objective and the window is too short to measure it (W0611). Only a written
    /// `min_traffic` can be this low: the derived guard holds at least
    /// `window / (short window × factor)` budget events.
    fn check_budget_holds_an_event(&mut self, budget: &ir::Budget, span: Span) {
        let ir::TrafficGuard::Fixed(min_traffic) = budget.traffic_guard else {
            return;
        };
        if min_traffic.count.is_zero() || min_traffic.window.millis <= 0 {
            return;
        }
        let events = min_traffic.count.to_f64() * budget.window.millis as f64
            / min_traffic.window.millis as f64;
        let budget_events = events * budget.error_budget.to_f64();
        if budget_events >= 1.0 {
            return;
        }
        self.push(
            codes::BUDGET_BELOW_ONE_EVENT
                .at(
                    span,
                    format!(
                        "at the minimum traffic the {} window allows {budget_events:.3} failed events",
                        budget.window.to_plain_string()
                    ),
                )
                .with_note(format!(
                    "a minimum of {} events per {} is {events:.0} events in {}, and {} of them is less than one: a single failure misses the objective",
                    min_traffic.count,
                    min_traffic.window.to_plain_string(),
                    budget.window.to_plain_string(),
                    budget.error_budget
                ))
                .with_help("lengthen the objective window, lower the objective, or raise `min_traffic`"),
        );
    }

    /// The `min_traffic` of a block: `Some(None)` when it is not written, `None`
    /// when it is wrong (reported).
    fn read_traffic_guard(&mut self, fields: &Fields<'_>) -> Option<Option<ir::TrafficGuard>> {
        let Some(value) = fields.value("min_traffic") else {
            return Some(None);
        };
        if matches!(&value.node, ast::Value::Selector(word) if word == "none") {
            return Some(Some(ir::TrafficGuard::Off));
        }
        let (count, traffic_window, traffic_window_span) =
            self.read_per_window("min_traffic", value)?;
        if count.is_negative() {
            self.out_of_range(
                value.span,
                "`min_traffic` cannot be negative".to_owned(),
                "use a count such as 10 per 5m, or `none` for no guard",
            );
            return None;
        }
        if !self.check_positive("min_traffic", traffic_window, traffic_window_span) {
            return None;
        }
        Some(Some(ir::TrafficGuard::Fixed(ir::MinTraffic {
            count,
            window: traffic_window,
        })))
    }

    /// `burn_alert = "Name"`: a name Prometheus 2 accepts for an alert (a metric
    /// name, E0212) that no other generated alert has, and that does not end in
    /// the forecast suffix (E0731).
    fn read_burn_alert_name(&mut self, value: &Spanned<ast::Value>) -> Option<String> {
        let name = self.read_nonempty_string("burn_alert", value)?;
        if !is_legacy_metric_name(&name) {
            self.push(
                codes::INVALID_NAME
                    .at(value.span, format!("`{name}` is not a valid alert name"))
                    .with_help("Prometheus 2 takes alert names of letters, digits, `_` and `:`, not starting with a digit, such as `FraudScoreBudgetBurn`"),
            );
            return None;
        }
        let clash = if naming::is_reserved_alert_name(&name) {
            Some(format!(
                "`{name}` is the name of another alert mlslo generates"
            ))
        } else if naming::is_forecast_alert(&name) {
            Some(format!(
                "`{name}` ends in `{}`, which marks forecast alerts",
                naming::FORECAST_ALERT_SUFFIX
            ))
        } else {
            None
        };
        if let Some(label) = clash {
            self.push(
                codes::BURN_ALERT_NAME_TAKEN
                    .at(value.span, label)
                    .with_help(
                        "choose a name of its own, such as `<Service><Objective>BudgetBurn`",
                    ),
            );
            return None;
        }
        Some(name)
    }

    /// `alerts = true | false | [page] | [ticket] | [page, ticket]`: the tiers
    /// whose burn-rate alerts are generated.
    fn read_alert_tiers(&mut self, value: &Spanned<ast::Value>) -> Option<Vec<Tier>> {
        if !matches!(value.node, ast::Value::List(_)) {
            let enabled = self.read_bool("alerts", value)?;
            return Some(if enabled {
                vec![Tier::Page, Tier::Ticket]
            } else {
                Vec::new()
            });
        }
        let tiers = self.read_list("alerts", value, Unit::Identifier, |checker, element| {
            let tier = match &element.node {
                ast::Value::Selector(word) | ast::Value::String(word) => {
                    [Tier::Page, Tier::Ticket]
                        .into_iter()
                        .find(|tier| tier.as_str() == word)
                }
                _ => None,
            };
            if tier.is_none() {
                checker.push(
                    codes::MISMATCHED_TYPES
                        .at(element.span, "expected a tier: `page` or `ticket`")
                        .with_help("`alerts` takes `true`, `false`, or the tiers to keep, such as `alerts = [page]`"),
                );
            }
            tier
        })?;
        let mut kept = Vec::new();
        for tier in [Tier::Page, Tier::Ticket] {
            if tiers.contains(&tier) {
                kept.push(tier);
            }
        }
        Some(kept)
    }

    fn check_tier(
        &mut self,
        tier: Tier,
        block: &ast::Block,
        window: Duration,
        window_span: Option<Span>,
    ) -> Option<Vec<ir::BurnWindow>> {
        let fields = self.collect(&block.items, &TIER_SCHEMA, block.kind.span);
        let mut all_good = true;
        let for_ = self.duration_field(&fields, "for", Some(Duration::ZERO), false, &mut all_good);
        let traffic_guard = self.read_traffic_guard(&fields);
        let (Some((for_, _)), Some(traffic_guard)) = (for_, traffic_guard) else {
            return None;
        };
        let settings = TierSettings {
            for_,
            traffic_guard,
        };
        let mut windows = Vec::new();
        let mut any = false;
        for burn_block in fields.blocks("burn") {
            any = true;
            match self.check_burn(burn_block, window, window_span, settings) {
                Some(burn) => windows.push(burn),
                None => all_good = false,
            }
        }
        if !any {
            windows = default_windows(tier, window, settings);
        }
        all_good.then_some(windows)
    }

    fn check_burn(
        &mut self,
        block: &ast::Block,
        window: Duration,
        window_span: Option<Span>,
        tier: TierSettings,
    ) -> Option<ir::BurnWindow> {
        let fields = self.collect(&block.items, &BURN_SCHEMA, block.kind.span);
        let mut all_good = true;
        let long = self.duration_field(&fields, "long", None, true, &mut all_good);
        let short = self.duration_field(&fields, "short", None, true, &mut all_good);
        let for_ = self.duration_field(&fields, "for", Some(tier.for_), false, &mut all_good);
        if let (Some((long, long_span)), Some((short, short_span))) = (long, short) {
            if short >= long {
                self.push(
                    codes::SHORT_WINDOW_NOT_SHORTER.at(short_span.unwrap_or(block.kind.span),
                        format!(
                            "the short window {} is not shorter than the long window {}",
                            short.to_plain_string(),
                            long.to_plain_string()
                        ),
                    )
                    .with_secondary(long_span.unwrap_or(block.kind.span), "the long window")
                    .with_help("the short window confirms the burn is still going on: make it about 1/12 of the long window, such as 1h/5m"),
                );
                all_good = false;
            }
            if long >= window {
                let mut diagnostic = codes::BURN_WINDOW_NOT_SHORTER.at(
                    long_span.unwrap_or(block.kind.span),
                    format!(
                        "the long window {} is not shorter than the objective window {}",
                        long.to_plain_string(),
                        window.to_plain_string()
                    ),
                );
                diagnostic = match window_span {
                    Some(span) => diagnostic.with_secondary(span, "the objective window"),
                    None => diagnostic.with_note(format!(
                        "the objective window is the default {}",
                        window.to_plain_string()
                    )),
                };
                self.push(diagnostic.with_help("alert windows must be shorter than the objective window; the defaults are 1h/5m and 6h/30m for pages"));
                all_good = false;
            }
        }
        let (factor, factor_exact, consumed) = match fields.value("factor") {
            Some(value) => match self.read_number("factor", value) {
                Some(factor) if factor > Decimal::ZERO => (Some(factor), true, None),
                Some(_) => {
                    self.out_of_range(value.span, "`factor` must be above 0".to_owned(), "a burn-rate factor is how many times faster than sustainable the budget burns, such as 14.4");
                    (None, true, None)
                }
                None => (None, true, None),
            },
            None => match long.map(|(long, _)| (long, default_budget_consumed(long))) {
                Some((long, Some(consumed))) => match burn_factor(consumed, window, long) {
                    Some(computed) => (Some(computed.factor), computed.exact, Some(consumed)),
                    None => (None, true, None),
                },
                Some((long, None)) => {
                    self.push(
                        codes::MISSING_FIELD.at(block.kind.span,
                            format!("a burn window over {} needs `factor`", long.to_plain_string()),
                        )
                        .with_note("the factor is computed only for the workbook's long windows 1h, 6h, 1d and 3d")
                        .with_help("add `factor = ...`: the budget fraction to spend in the long window × window / long window"),
                    );
                    (None, true, None)
                }
                None => (None, true, None),
            },
        };
        if !all_good {
            return None;
        }
        Some(ir::BurnWindow {
            long: long?.0,
            short: short?.0,
            factor: factor?,
            factor_exact,
            budget_consumed: consumed,
            for_: for_?.0,
            traffic_guard: tier.traffic_guard,
            span: Some(block.span),
        })
    }
}

/// What a tier block sets for each of its burn windows.
#[derive(Clone, Copy, Debug, Default)]
struct TierSettings {
    /// The `for` of burn windows that do not write their own.
    for_: Duration,
    /// The tier's `min_traffic`, over the objective's.
    traffic_guard: Option<ir::TrafficGuard>,
}

/// The workbook's windows of a tier whose long window is shorter than the
/// objective window, with factors scaled to it.
fn default_windows(tier: Tier, window: Duration, settings: TierSettings) -> Vec<ir::BurnWindow> {
    DEFAULT_BURN_WINDOWS
        .iter()
        .filter(|row| row.tier == tier && row.long < window)
        .filter_map(|row| {
            let consumed = row.budget_consumed();
            let factor = burn_factor(consumed, window, row.long)?;
            Some(ir::BurnWindow {
                long: row.long,
                short: row.short,
                factor: factor.factor,
                factor_exact: factor.exact,
                budget_consumed: Some(consumed),
                for_: settings.for_,
                traffic_guard: settings.traffic_guard,
                span: None,
            })
        })
        .collect()
}

static TIER_SCHEMA: Schema = Schema {
    what: "an alert tier",
    fields: &[
        block("burn", false, true),
        attribute("for", "for = 2m"),
        attribute("min_traffic", "min_traffic = 20 per 5m"),
    ],
    allows_routes: false,
    secrets: &[],
};

static BURN_SCHEMA: Schema = Schema {
    what: "a burn window",
    fields: &[
        attribute("long", "long = 1h"),
        attribute("short", "short = 5m"),
        attribute("factor", "factor = 14.4"),
        attribute("for", "for = 2m"),
    ],
    allows_routes: false,
    secrets: &[],
};
