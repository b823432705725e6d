//! The alerts on an objective's error budget itself, read from its optional
//! `budget { remaining_below = 25%, exhaustion { lookback = 1d, horizon = 3d } }`
//! block: a ticket while less than a share of the budget is left over the
//! objective window, and a forecast ticket while the trend of the remaining
//! budget reaches zero within a horizon.
//!
//! Both are off by default. The burn-rate alerts already page and ticket on
//! every budget that is spent fast enough to matter before the window ends; a
//! budget alert is a policy signal (slow down releases, plan reliability work),
//! which a team opts into with the threshold its error-budget policy names.
//!
//! Rules: `remaining_below` is strictly between 0% and 100% (E0732), since at 0%
//! the burn alerts have long fired and at 100% it always fires; the exhaustion
//! `lookback` is shorter than the objective window (E0733), as the remaining
//! budget is a ratio over that window and a fit over more than one window mixes
//! errors the window has already forgotten; a `horizon` longer than the window
//! extrapolates a window-long ratio further than the window itself (W0731); a
//! `budget` block that asks for neither alert is a leftover (W0732).

use crate::compiler::check::checker::Checker;
use crate::compiler::check::codes;
use crate::compiler::check::schema::{attribute, block, Fields, Schema};
use crate::compiler::ir::{self, Decimal, Duration};

impl Checker {
    /// The budget alerts of a budgeted objective whose window is `window`; the
    /// default (none) without a `budget` block, `None` on an error (reported).
    pub(crate) fn check_budget_alerts(
        &mut self,
        fields: &Fields<'_>,
        window: Duration,
    ) -> Option<ir::BudgetAlerts> {
        let Some(budget_block) = fields.block("budget") else {
            return Some(ir::BudgetAlerts::default());
        };
        let budget_fields = self.collect(
            &budget_block.items,
            &BUDGET_ALERTS_SCHEMA,
            budget_block.kind.span,
        );
        let mut all_good = true;
        let remaining_below = match budget_fields.value("remaining_below") {
            Some(value) => match self.read_percent("remaining_below", value) {
                Some(fraction) if fraction > Decimal::ZERO && fraction < Decimal::ONE => {
                    Some(fraction)
                }
                Some(_) => {
                    self.push(
                        codes::REMAINING_BUDGET_OUT_OF_RANGE
                            .at(
                                value.span,
                                "the share of budget left must be strictly between 0% and 100%",
                            )
                            .with_help(
                                "name the share of the budget whose loss calls for action, such as `remaining_below = 25%`",
                            ),
                    );
                    all_good = false;
                    None
                }
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        let exhaustion = match budget_fields.block("exhaustion") {
            Some(exhaustion_block) => match self.check_forecast(exhaustion_block) {
                Some(forecast) => {
                    if forecast.lookback >= window {
                        self.push(
                            codes::EXHAUSTION_LOOKBACK_NOT_SHORTER
                                .at(
                                    exhaustion_block.span,
                                    format!(
                                        "a fit over {} of a budget measured over {}",
                                        forecast.lookback.to_plain_string(),
                                        window.to_plain_string()
                                    ),
                                )
                                .with_note("the remaining budget is a ratio over the objective window: a fit over a whole window or more mixes in errors the window has already forgotten")
                                .with_help("use a lookback of a fraction of the window, such as 1d for a 30d window"),
                        );
                        all_good = false;
                    } else if forecast.horizon > window {
                        self.push(
                            codes::EXHAUSTION_HORIZON_BEYOND_WINDOW
                                .at(
                                    exhaustion_block.span,
                                    format!(
                                        "a forecast {} ahead of a budget measured over {}",
                                        forecast.horizon.to_plain_string(),
                                        window.to_plain_string()
                                    ),
                                )
                                .with_note("by then every error the fit saw has left the window: the forecast extrapolates further than what it measures")
                                .with_help(format!(
                                    "use a horizon of at most the {} window, such as 3d",
                                    window.to_plain_string()
                                )),
                        );
                    }
                    Some(forecast)
                }
                None => {
                    all_good = false;
                    None
                }
            },
            None => None,
        };
        if all_good && remaining_below.is_none() && exhaustion.is_none() {
            self.push(
                codes::BUDGET_BLOCK_WITHOUT_ALERT
                    .at(budget_block.kind.span, "this block asks for no budget alert")
                    .with_help("add `remaining_below = 25%` or `exhaustion { lookback = 1d, horizon = 3d }`, or remove the block"),
            );
        }
        all_good.then_some(ir::BudgetAlerts {
            remaining_below,
            exhaustion,
        })
    }
}

static BUDGET_ALERTS_SCHEMA: Schema = Schema {
    what: "a budget block",
    fields: &[
        attribute("remaining_below", "remaining_below = 25%"),
        block("exhaustion", false, false),
    ],
    allows_routes: false,
    secrets: &[],
};
