//! The `[deploy]` table of `.mlslo.toml`: named targets, each a kind, a URL and where its
//! configuration lives.
//!
//! Invariants: other top-level tables (such as `[lint]`) belong to other commands and are
//! ignored here; inside `[deploy]` every unknown key is an error, so a typo never silently
//! turns a setting off. Flags override the file field by field (see [`TargetConfig::merge`]).

use serde::Deserialize;
use std::collections::BTreeMap;

/// What kind of server a target is; decides the deploy flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    Prometheus,
    ThanosRuler,
    Alertmanager,
    Mimir,
    Cortex,
    Loki,
    Watcher,
    Grafana,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Prometheus => "prometheus",
            TargetKind::ThanosRuler => "thanos-ruler",
            TargetKind::Alertmanager => "alertmanager",
            TargetKind::Mimir => "mimir",
            TargetKind::Cortex => "cortex",
            TargetKind::Loki => "loki",
            TargetKind::Watcher => "watcher",
            TargetKind::Grafana => "grafana",
        }
    }
}

/// One target as the file or the flags give it; every field optional until [`resolve`].
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub kind: Option<TargetKind>,
    pub url: Option<String>,
    /// Prometheus / Thanos Ruler: the folder its `rule_files` glob reads.
    pub rules_dir: Option<String>,
    /// Alertmanager: the file given to `--config.file`.
    pub config_file: Option<String>,
    /// Mimir / Cortex / Loki: one namespace for every group (default: one per service file).
    pub namespace: Option<String>,
    pub tenant: Option<String>,
    pub bearer_token_file: Option<String>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<String>,
    pub ca_file: Option<String>,
    /// Ruler namespaces whose groups mlslo may delete.
    pub owned_namespaces: Option<Vec<String>>,
    /// The output of `mlslo build`; default `generated/`.
    pub source: Option<String>,
    /// Grafana: the folder's uid (default `mlslo`), created when missing.
    pub folder_uid: Option<String>,
    /// Grafana: the folder's title when mlslo creates it (default `SLOs`).
    pub folder: Option<String>,
    /// Grafana: delete mlslo's dashboards whose service is gone. A flag only, never read
    /// from the file: a deletion is asked for each time.
    #[serde(skip)]
    pub prune: bool,
}

impl TargetConfig {
    /// Fields set in `flags` win over the same fields of `self`.
    pub fn merge(self, flags: TargetConfig) -> TargetConfig {
        TargetConfig {
            kind: flags.kind.or(self.kind),
            url: flags.url.or(self.url),
            rules_dir: flags.rules_dir.or(self.rules_dir),
            config_file: flags.config_file.or(self.config_file),
            namespace: flags.namespace.or(self.namespace),
            tenant: flags.tenant.or(self.tenant),
            bearer_token_file: flags.bearer_token_file.or(self.bearer_token_file),
            basic_auth_user: flags.basic_auth_user.or(self.basic_auth_user),
            basic_auth_password_file: flags
                .basic_auth_password_file
                .or(self.basic_auth_password_file),
            ca_file: flags.ca_file.or(self.ca_file),
            owned_namespaces: flags.owned_namespaces.or(self.owned_namespaces),
            source: flags.source.or(self.source),
            folder_uid: flags.folder_uid.or(self.folder_uid),
            folder: flags.folder.or(self.folder),
            prune: flags.prune,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    deploy: DeploySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploySection {
    #[serde(default)]
    targets: BTreeMap<String, TargetConfig>,
}

/// The targets of a `.mlslo.toml`; `file` names it in errors (TOML errors carry line and
/// column).
pub fn parse_targets(file: &str, text: &str) -> Result<BTreeMap<String, TargetConfig>, String> {
    let parsed: ConfigFile =
        toml::from_str(text).map_err(|error| format!("{file}: {}", error.to_string().trim()))?;
    Ok(parsed.deploy.targets)
}

/// `config` with its relative paths (rules_dir, config_file, source, credential and CA
/// files) taken relative to `folder`, the configuration file's folder.
pub fn rebase_paths(config: TargetConfig, folder: &str) -> TargetConfig {
    let rebase = |path: Option<String>| {
        path.map(|path| {
            if path.starts_with('/') {
                path
            } else {
                format!("{}/{path}", folder.trim_end_matches('/'))
            }
        })
    };
    TargetConfig {
        rules_dir: rebase(config.rules_dir),
        config_file: rebase(config.config_file),
        source: rebase(config.source),
        bearer_token_file: rebase(config.bearer_token_file),
        basic_auth_password_file: rebase(config.basic_auth_password_file),
        ca_file: rebase(config.ca_file),
        ..config
    }
}

/// A target with everything its kind needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    pub url: String,
    pub source: String,
    pub config: TargetConfig,
}

/// Checks that the fields `kind` needs are present.
pub fn resolve(name: &str, config: TargetConfig) -> Result<Target, String> {
    let kind = config
        .kind
        .ok_or_else(|| format!("target `{name}` has no kind: set `kind` or give --kind"))?;
    let url = config
        .url
        .clone()
        .ok_or_else(|| format!("target `{name}` has no url: set `url` or give --url"))?;
    let missing = match kind {
        TargetKind::Prometheus | TargetKind::ThanosRuler if config.rules_dir.is_none() => {
            Some(("rules_dir", "--rules-dir"))
        }
        TargetKind::Alertmanager if config.config_file.is_none() => {
            Some(("config_file", "--config-file"))
        }
        _ => None,
    };
    if let Some((key, flag)) = missing {
        return Err(format!(
            "target `{name}` of kind {} needs `{key}` (or {flag})",
            kind.as_str()
        ));
    }
    Ok(Target {
        name: name.to_string(),
        kind,
        url: url.trim_end_matches('/').to_string(),
        source: config
            .source
            .clone()
            .unwrap_or_else(|| "generated/".to_string()),
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tables_are_ignored_and_unknown_deploy_keys_refused() {
        let text = r#"
[lint]
anything = 1

[deploy.targets.prod]
kind = "prometheus"
url = "http://prom:9090"
rules_dir = "/etc/prometheus/rules"
"#;
        let targets = parse_targets(".mlslo.toml", text).expect("valid");
        assert_eq!(targets["prod"].kind, Some(TargetKind::Prometheus));
        let error =
            parse_targets(".mlslo.toml", "[deploy.targets.x]\nurll = \"u\"\n").expect_err("typo");
        assert!(
            error.contains("urll") && error.contains("line 2"),
            "{error}"
        );
        let error =
            parse_targets(".mlslo.toml", "[deploy]\ntarget = 1\n").expect_err("unknown key");
        assert!(error.contains("target"), "{error}");
    }

    #[test]
    fn relative_paths_of_the_file_follow_the_file() {
        let config = TargetConfig {
            rules_dir: Some("rules".to_string()),
            ca_file: Some("/etc/ca.pem".to_string()),
            url: Some("http://x".to_string()),
            ..TargetConfig::default()
        };
        let rebased = rebase_paths(config, "deploy/");
        assert_eq!(rebased.rules_dir.as_deref(), Some("deploy/rules"));
        assert_eq!(rebased.ca_file.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(rebased.url.as_deref(), Some("http://x"));
    }

    #[test]
    fn flags_override_the_file_and_missing_fields_are_named() {
        let file = TargetConfig {
            kind: Some(TargetKind::Prometheus),
            url: Some("http://a/".to_string()),
            ..TargetConfig::default()
        };
        let flags = TargetConfig {
            url: Some("http://b".to_string()),
            ..TargetConfig::default()
        };
        let error = resolve("t", file.clone().merge(flags.clone())).expect_err("no rules_dir");
        assert!(error.contains("rules_dir"), "{error}");
        let target = resolve(
            "t",
            file.merge(TargetConfig {
                rules_dir: Some("r".to_string()),
                ..flags
            }),
        )
        .expect("complete");
        assert_eq!(target.url, "http://b");
        assert_eq!(target.source, "generated/");
    }
}
