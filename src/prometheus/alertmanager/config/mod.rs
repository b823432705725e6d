//! Alertmanager 0.25's `alertmanager.yml`: the typed parts that routing, inhibition and
//! validation need, decoded and validated the way `config.Load` (gopkg.in/yaml.v2
//! `UnmarshalStrict`) does.
//!
//! ```text
//! text ──yaml::parse──▶ yaml::Node ──decode──▶ Config ──validate──▶ load's Ok(Config)
//!                                    (schema: the keys 0.25 knows; url: Go's URL rules)
//! ```
//!
//! - [`model`]: the types ([`Config`], [`Route`], [`Receiver`], ...), as written.
//! - [`duration`]: [`GoDuration`], Prometheus' `model.Duration`.
//! - `decode`: yaml.v2's strict decoding with its two error classes.
//! - `schema`: the keys of the global block and of each integration, as data.
//! - `validate`: the whole-file checks `config.Config.UnmarshalYAML` runs after decoding.
//! - `url`: Go's URL and host:port checks.
//!
//! Invariants:
//! - [`load`] accepts a file exactly when `amtool check-config` 0.25 accepts its
//!   configuration part (templates are not loaded), and on rejection returns amtool's
//!   message for the error amtool reports.
//! - The whole-file checks run only when decoding found no error, as in Go.

mod decode;
pub mod duration;
pub mod model;
mod schema;
mod url;
mod validate;

pub use duration::GoDuration;
pub use model::{
    legacy_and_new_matchers, Config, GlobalConfig, InhibitRule, Integration, Receiver, Route,
    SecretField, SecretSource, TimeInterval,
};

/// Parses and validates an `alertmanager.yml` text as Alertmanager 0.25's
/// `config.Load` does. The error is amtool's message for the file.
pub fn load(text: &str) -> Result<Config, String> {
    let (config, route_present) = decode::decode(text)?;
    validate::validate(&config, route_present)?;
    if config.route.continue_matching {
        return Err("cannot have continue in root route".to_string());
    }
    Ok(config)
}
