//! `mlslo diff` and `mlslo deploy`: read the target's configuration and the generated files,
//! ask the server what it runs, plan once (src/deploy), then print or apply that plan.
//!
//! Invariants:
//! - The server is asked before anything is written: a server that is down leaves the disk
//!   untouched.
//! - Files are written atomically (temporary file in the same folder, then rename), and a
//!   reload the server rejects, or that does not show the new rules, restores every file it
//!   touched and reloads again before reporting why.
//! - Credentials come from files or the environment and never reach the output: every error
//!   printed after the client exists (quoting a server's answer or not) passes through the
//!   client's redactor, as a server may echo what it was sent. Plans show rule groups and
//!   configurations, not server messages, and are printed as they are.
//! - One deploy at a time per folder: the lock file names its owner and is held with a file
//!   lock the system drops when the owner dies, so a crashed deploy's lock is taken over.
//! - The plan compares the files with what the server runs, so a deploy stopped between
//!   writing and reloading is seen and finished by the next one, and after a reload the
//!   server must run exactly the files on disk.
//!
//! Exit status: 0 nothing to change (diff) or deployed; 1 diff found changes; 2 any error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::connection::{block_on, ConnectionArgs, ProcessEnvironment};
use super::{write_stderr, write_stdout, EXIT_CLEAN, EXIT_INVALID_INPUT, EXIT_USAGE_OR_IO};
use crate::cli::http::{ClientOptions, HttpClient, HttpError, HttpErrorKind, Request};
use crate::cli::process_lock::{LockError, ProcessLock};
use crate::tools::deploy::config::{parse_targets, resolve, Target, TargetConfig, TargetKind};
use crate::tools::deploy::grafana::{self as grafana_plan, Folder, GrafanaState};
use crate::tools::deploy::{self, served, Action, Plan};

/// Where a target comes from: the configuration file, flags, or both (flags win).
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Name of a target under [deploy.targets] in the configuration file.
    #[arg(long, value_name = "NAME")]
    pub target: Option<String>,
    /// The configuration file (default: .mlslo.toml in the current folder, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub kind: Option<TargetKind>,
    /// The server's base URL, such as http://prometheus:9090.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Prometheus / Thanos Ruler: the folder its rule_files glob reads.
    #[arg(long, value_name = "DIR")]
    pub rules_dir: Option<String>,
    /// Alertmanager: its --config.file.
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<String>,
    /// Ruler: one namespace for every group (default: one per service).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Ruler: a namespace mlslo owns and may delete groups in (repeatable).
    #[arg(long = "owned-namespace", value_name = "NAMESPACE")]
    pub owned_namespaces: Vec<String>,
    /// The output folder of `mlslo build` (default generated/).
    #[arg(long, value_name = "DIR")]
    pub source: Option<String>,
    /// Grafana: the uid of the folder the dashboards go to (default mlslo).
    #[arg(long, value_name = "UID")]
    pub folder_uid: Option<String>,
    /// Grafana: the folder's title, when mlslo creates it (default SLOs).
    #[arg(long, value_name = "TITLE")]
    pub folder: Option<String>,
    /// Grafana: also delete mlslo's dashboards whose service is gone.
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub target: TargetArgs,
}

#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run_diff(args: &DiffArgs) -> u8 {
    let (target, client) = match prepare(&args.target) {
        Ok(prepared) => prepared,
        Err(message) => return fail(&message),
    };
    let redactor = client.redactor();
    let outcome = block_on(async { plan_target(&target, &client).await }).and_then(|plan| plan);
    match outcome {
        Ok(plan) => {
            write_stdout(&plan.render());
            if plan.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_INVALID_INPUT
            }
        }
        Err(message) => fail(&redactor.redact(&message)),
    }
}

pub fn run_deploy(args: &DeployArgs) -> u8 {
    let (target, client) = match prepare(&args.target) {
        Ok(prepared) => prepared,
        Err(message) => return fail(&message),
    };
    let redactor = client.redactor();
    let outcome = (|| -> Result<bool, String> {
        let _lock = if args.dry_run {
            None
        } else {
            lock_files(&target)?
        };
        block_on(async {
            let plan = plan_target(&target, &client).await?;
            write_stdout(&plan.render());
            if args.dry_run || plan.is_empty() {
                return Ok(false);
            }
            apply(&target, &client, &plan).await?;
            Ok(true)
        })?
    })();
    match outcome {
        Ok(true) => {
            write_stdout("deployed\n");
            EXIT_CLEAN
        }
        Ok(false) => EXIT_CLEAN,
        Err(message) => fail(&redactor.redact(&message)),
    }
}

/// Where a file target's lock lives: in the rules folder, or beside Alertmanager's file.
fn lock_path(target: &Target) -> Option<PathBuf> {
    match target.kind {
        TargetKind::Prometheus | TargetKind::ThanosRuler => Some(
            Path::new(target.config.rules_dir.as_deref().unwrap_or_default())
                .join(".mlslo-deploy.lock"),
        ),
        TargetKind::Alertmanager => {
            let file = Path::new(target.config.config_file.as_deref().unwrap_or_default());
            let name = file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            Some(file.with_file_name(format!(".{name}.mlslo-deploy.lock")))
        }
        _ => None,
    }
}

/// Takes the lock of a file target (rules folder or the Alertmanager file's folder) before
/// planning, so the plan stays true until it is applied; a deploy that holds it makes
/// this one stop, and the lock of a deploy that died is taken over with a note.
fn lock_files(target: &Target) -> Result<Option<ProcessLock>, String> {
    let Some(path) = lock_path(target) else {
        return Ok(None);
    };
    let lock = ProcessLock::acquire_or_refuse(&path).map_err(|error| match error {
        LockError::Held(owner) => format!(
            "another deploy holds {}: {}; wait for it to finish",
            path.display(),
            owner.map_or_else(
                || "its owner is starting".to_string(),
                |owner| owner.describe()
            )
        ),
        LockError::Ownerless => format!(
            "{} names no owner (an older mlslo, or a file made by hand): remove it if no \
             deploy is running",
            path.display()
        ),
        LockError::Io(message) => format!("cannot take the deploy lock: {message}"),
    })?;
    if let Some(previous_owner) = &lock.taken_over_from {
        write_stderr(&format!(
            "note: took over the deploy lock {}: the deploy that held it ({}) is no longer \
             running\n",
            path.display(),
            previous_owner.describe()
        ));
    }
    Ok(Some(lock))
}

fn fail(message: &str) -> u8 {
    write_stderr(&format!("error: {message}\n"));
    EXIT_USAGE_OR_IO
}

/// The resolved target and a client with its credentials.
fn prepare(args: &TargetArgs) -> Result<(Target, HttpClient), String> {
    let config_path = match &args.config {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from(".mlslo.toml")).filter(|path| path.is_file()),
    };
    let targets = match &config_path {
        Some(path) => {
            let text = super::input::read_text(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            parse_targets(&path.display().to_string(), &text)?
        }
        None => BTreeMap::new(),
    };
    if args.target.is_none() && args.kind.is_none() {
        let known: Vec<&str> = targets.keys().map(String::as_str).collect();
        return Err(format!(
            "no target: give --target NAME (a [deploy.targets.NAME] table{}) or --kind and --url",
            if known.is_empty() {
                String::new()
            } else {
                format!("; known: {}", known.join(", "))
            }
        ));
    }
    let from_file = match &args.target {
        Some(name) => targets.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = targets.keys().map(String::as_str).collect();
            format!(
                "no target `{name}` in {} (known: {})",
                config_path.as_ref().map_or(
                    "the configuration (no .mlslo.toml found)".to_string(),
                    |p| p.display().to_string()
                ),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        })?,
        None => TargetConfig::default(),
    };
    // Paths in the file are relative to the file's folder, paths in flags to the current one.
    let from_file = match config_path.as_ref().and_then(|path| path.parent()) {
        Some(folder) if !folder.as_os_str().is_empty() => {
            deploy::config::rebase_paths(from_file, &folder.display().to_string())
        }
        _ => from_file,
    };
    let connection = &args.connection;
    let path_text = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string());
    let flags = TargetConfig {
        kind: args.kind,
        url: args.url.clone(),
        rules_dir: args.rules_dir.clone(),
        config_file: args.config_file.clone(),
        namespace: args.namespace.clone(),
        tenant: connection.tenant.clone(),
        bearer_token_file: path_text(&connection.bearer_token_file),
        basic_auth_user: connection.basic_auth_user.clone(),
        basic_auth_password_file: path_text(&connection.basic_auth_password_file),
        ca_file: path_text(&connection.ca_file),
        owned_namespaces: Some(args.owned_namespaces.clone()).filter(|list| !list.is_empty()),
        source: args.source.clone(),
        folder_uid: args.folder_uid.clone(),
        folder: args.folder.clone(),
        prune: args.prune,
    };
    let name = args.target.clone().unwrap_or_else(|| "(flags)".to_string());
    let target = resolve(&name, from_file.merge(flags))?;
    let merged = ConnectionArgs {
        bearer_token_file: target.config.bearer_token_file.clone().map(PathBuf::from),
        basic_auth_user: target.config.basic_auth_user.clone(),
        basic_auth_password_file: target
            .config
            .basic_auth_password_file
            .clone()
            .map(PathBuf::from),
        ca_file: target.config.ca_file.clone().map(PathBuf::from),
        tenant: target.config.tenant.clone(),
        timeout: connection.timeout,
        retries: connection.retries,
    };
    let options = merged.client_options(&ProcessEnvironment)?;
    let client = HttpClient::new(options).map_err(|error| error.to_string())?;
    Ok((target, client))
}

async fn get_ok(client: &HttpClient, url: String) -> Result<String, String> {
    let response = client
        .send_ok(&Request::get(url))
        .await
        .map_err(|error| error.to_string())?;
    Ok(response.text())
}

/// The body of a GET, `None` on 404 (an endpoint the server does not have).
async fn get_if_found(client: &HttpClient, url: String) -> Result<Option<String>, String> {
    let response = client
        .send(&Request::get(url.clone()))
        .await
        .map_err(|error| error.to_string())?;
    match response.status {
        404 => Ok(None),
        status if (200..300).contains(&status) => Ok(Some(response.text())),
        status => Err(format!(
            "GET {url}: HTTP {status}: {}",
            response.text().trim()
        )),
    }
}

/// Files of `dir` whose names end with one of `extensions`, by file name.
fn read_folder(dir: &Path, extensions: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read the folder {}: {error}", dir.display()))?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !extensions.iter().any(|extension| name.ends_with(extension)) || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let text = super::input::read_text(&path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        files.insert(name, text);
    }
    Ok(files)
}

fn source_folder(target: &Target, sub: &str) -> PathBuf {
    Path::new(&target.source).join(sub)
}

fn ruler_base(target: &Target) -> String {
    let path = match target.kind {
        TargetKind::Cortex => "/api/v1/rules",
        TargetKind::Loki => "/loki/api/v1/rules",
        _ => "/prometheus/config/v1/rules",
    };
    format!("{}{path}", target.url)
}

/// Asks the server first (so an unreachable one leaves everything untouched), then plans.
async fn plan_target(target: &Target, client: &HttpClient) -> Result<Plan, String> {
    match target.kind {
        TargetKind::Prometheus | TargetKind::ThanosRuler => {
            let rules = get_ok(client, format!("{}/api/v1/rules", target.url)).await?;
            // Thanos Ruler has no runtime information: its reload status stays unknown.
            let runtime_info =
                get_if_found(client, format!("{}/api/v1/status/runtimeinfo", target.url)).await?;
            let served = served::served_rules(&rules, runtime_info.as_deref())?;
            let desired = read_folder(&source_folder(target, "prometheus"), &[".yml", ".yaml"])?;
            let rules_dir = target.config.rules_dir.clone().unwrap_or_default();
            let present = read_folder(Path::new(&rules_dir), &[".yml", ".yaml"])?;
            let mut plan = deploy::plan_rule_files(&desired, &present)?;
            served::add_rule_drift(&mut plan, &desired, &present, &served)?;
            Ok(plan)
        }
        TargetKind::Alertmanager => {
            let status = get_ok(client, format!("{}/api/v2/status", target.url)).await?;
            let source = source_folder(target, "alertmanager").join("alertmanager.yml");
            let desired = super::input::read_text(&source)
                .map_err(|error| format!("cannot read {}: {error}", source.display()))?;
            let config_file = target.config.config_file.clone().unwrap_or_default();
            let present = match std::fs::read_to_string(&config_file) {
                Ok(text) => Some(text),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => return Err(format!("cannot read {config_file}: {error}")),
            };
            let mut plan = deploy::plan_alertmanager(&config_file, &desired, present.as_deref())?;
            served::add_alertmanager_drift(
                &mut plan,
                &config_file,
                &desired,
                present.as_deref(),
                &status,
            )?;
            Ok(plan)
        }
        TargetKind::Mimir | TargetKind::Cortex | TargetKind::Loki => {
            plan_ruler(target, client).await
        }
        TargetKind::Watcher => plan_watcher(target, client).await,
        TargetKind::Grafana => plan_grafana(target, client).await,
    }
}

async fn plan_ruler(target: &Target, client: &HttpClient) -> Result<Plan, String> {
    let files = read_folder(&source_folder(target, "prometheus"), &[".yml", ".yaml"])?;
    let mut desired: BTreeMap<String, BTreeMap<String, yaml_serde::Value>> = BTreeMap::new();
    for (name, text) in &files {
        let namespace = target.config.namespace.clone().unwrap_or_else(|| {
            name.trim_end_matches(".yml")
                .trim_end_matches(".yaml")
                .trim_end_matches(".rules")
                .to_string()
        });
        let groups = deploy::rule_file_groups(name, text)?;
        let slot = desired.entry(namespace.clone()).or_default();
        for (group, value) in groups {
            if slot.insert(group.clone(), value).is_some() {
                return Err(format!(
                    "group {group} appears twice in namespace {namespace}"
                ));
            }
        }
    }
    let owned: BTreeSet<String> = target
        .config
        .owned_namespaces
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut present = BTreeMap::new();
    for namespace in desired.keys().chain(owned.iter()) {
        let url = format!(
            "{}/{}",
            ruler_base(target),
            crate::cli::http::percent_encode(namespace)
        );
        let response = client
            .send(&Request::get(url.clone()))
            .await
            .map_err(|error| error.to_string())?;
        let groups = match response.status {
            404 => BTreeMap::new(),
            status if (200..300).contains(&status) => {
                deploy::ruler_namespace_groups(namespace, &response.text())?
            }
            status => {
                return Err(format!(
                    "GET {url}: HTTP {status}: {}",
                    response.text().trim()
                ))
            }
        };
        present.insert(namespace.clone(), groups);
    }
    Ok(deploy::plan_ruler(&desired, &present, &owned))
}

/// How many owned watches one query asks for at a time.
const WATCH_PAGE_SIZE: usize = 100;

async fn plan_watcher(target: &Target, client: &HttpClient) -> Result<Plan, String> {
    let files = read_folder(&source_folder(target, "watcher"), &[".json"])?;
    let mut desired = BTreeMap::new();
    for (name, text) in &files {
        let watch: Json =
            serde_json::from_str(text).map_err(|error| format!("{name}: not JSON: {error}"))?;
        desired.insert(name.trim_end_matches(".json").to_string(), watch);
    }
    let mut present = BTreeMap::new();
    // Every owned watch, through the query API (only `_id` and `metadata.*` are queryable).
    let mut from = 0;
    loop {
        let body = serde_json::json!({
            "query": {"term": {format!("metadata.{}", deploy::WATCH_OWNERSHIP_KEY): true}},
            "from": from,
            "size": WATCH_PAGE_SIZE,
        });
        let url = format!("{}/_watcher/_query/watches", target.url);
        let response = client
            .send_ok(&Request::post(url).body("application/json", body.to_string()))
            .await
            .map_err(|error| error.to_string())?;
        let page = deploy::query_watches_page(&response.text())?;
        let count = page.watches.len();
        for (id, watch) in page.watches {
            present.insert(id, watch);
        }
        from += count;
        if count == 0 || from >= page.total {
            break;
        }
    }
    // Desired ids that exist but are not owned would be missing above: ask for each.
    let unlisted: Vec<String> = desired
        .keys()
        .filter(|id| !present.contains_key(*id))
        .cloned()
        .collect();
    for id in &unlisted {
        let url = format!(
            "{}/_watcher/watch/{}",
            target.url,
            crate::cli::http::percent_encode(id)
        );
        let response = client
            .send(&Request::get(url.clone()))
            .await
            .map_err(|error| error.to_string())?;
        match response.status {
            404 => {}
            status if (200..300).contains(&status) => {
                if let Some(watch) = deploy::get_watch_source(&response.text())? {
                    present.insert(id.clone(), watch);
                }
            }
            status => {
                return Err(format!(
                    "GET {url}: HTTP {status}: {}",
                    response.text().trim()
                ))
            }
        }
    }
    deploy::plan_watches(&desired, &present)
}

fn grafana_folder(target: &Target) -> Folder {
    Folder {
        uid: target
            .config
            .folder_uid
            .clone()
            .unwrap_or_else(|| grafana_plan::DEFAULT_FOLDER_UID.to_string()),
        title: target
            .config
            .folder
            .clone()
            .unwrap_or_else(|| grafana_plan::DEFAULT_FOLDER_TITLE.to_string()),
    }
}

/// A Grafana GET: the body, `None` on 404, an explained error on any other refusal.
async fn grafana_get(
    client: &HttpClient,
    target: &Target,
    path: &str,
    query: &[(&str, String)],
) -> Result<Option<String>, String> {
    let mut request = Request::get(format!("{}{path}", target.url));
    for (name, value) in query {
        request = request.query(*name, value.clone());
    }
    let what = format!("GET {path}");
    let response = client
        .send(&request)
        .await
        .map_err(|error| grafana_error(&what, error))?;
    match response.status {
        404 => Ok(None),
        status if (200..300).contains(&status) => Ok(Some(response.text())),
        status => Err(grafana_plan::explain_refusal(
            &what,
            status,
            &response.text(),
        )),
    }
}

/// A failed Grafana request: a status that stayed after the retries is explained as a
/// refusal is; the rest (no connection, a timeout) says what happened on the wire.
fn grafana_error(what: &str, error: HttpError) -> String {
    match &error.kind {
        HttpErrorKind::Status { status, body } => format!(
            "{} (after {} attempts)",
            grafana_plan::explain_refusal(what, *status, body),
            error.attempts
        ),
        _ => error.to_string(),
    }
}

async fn plan_grafana(target: &Target, client: &HttpClient) -> Result<Plan, String> {
    let folder = grafana_folder(target);
    let files = read_folder(&source_folder(target, "grafana"), &[".json"])?;
    let mut desired = BTreeMap::new();
    for (name, text) in &files {
        let (uid, dashboard) = grafana_plan::generated_dashboard(name, text)?;
        if desired.insert(uid.clone(), dashboard).is_some() {
            return Err(format!("two generated dashboards have the uid {uid}"));
        }
    }
    let folder_path = format!(
        "/api/folders/{}",
        crate::cli::http::percent_encode(&folder.uid)
    );
    let mut state = GrafanaState {
        folder_title: grafana_get(client, target, &folder_path, &[])
            .await?
            .map(|body| grafana_plan::folder_title(&body))
            .transpose()?,
        ..GrafanaState::default()
    };
    for page in 1..=grafana_plan::MAX_SEARCH_PAGES {
        let query = [
            ("type", "dash-db".to_string()),
            (
                "tag",
                crate::compiler::emit::grafana::DASHBOARD_TAG.to_string(),
            ),
            ("limit", grafana_plan::SEARCH_PAGE_SIZE.to_string()),
            ("page", page.to_string()),
        ];
        let body = grafana_get(client, target, "/api/search", &query)
            .await?
            .ok_or_else(|| "GET /api/search: HTTP 404 (is this a Grafana?)".to_string())?;
        let hits = grafana_plan::search_page(&body)?;
        let full = hits.len() >= grafana_plan::SEARCH_PAGE_SIZE;
        state.tagged.extend(hits);
        if !full {
            break;
        }
        if page == grafana_plan::MAX_SEARCH_PAGES {
            return Err(format!(
                "Grafana lists more than {} dashboards tagged `{}` ({} pages of {}), the most \
                 a deploy reads",
                grafana_plan::MAX_SEARCH_PAGES * grafana_plan::SEARCH_PAGE_SIZE,
                crate::compiler::emit::grafana::DASHBOARD_TAG,
                grafana_plan::MAX_SEARCH_PAGES,
                grafana_plan::SEARCH_PAGE_SIZE
            ));
        }
    }
    let mut uids: Vec<String> = desired.keys().cloned().collect();
    if target.config.prune {
        uids.extend(
            grafana_plan::stale_owned(&desired, &state.tagged)
                .into_iter()
                .map(str::to_string),
        );
    }
    for uid in uids {
        let path = format!(
            "/api/dashboards/uid/{}",
            crate::cli::http::percent_encode(&uid)
        );
        if let Some(body) = grafana_get(client, target, &path, &[]).await? {
            let stored = grafana_plan::stored_dashboard(&uid, &body)?;
            state.stored.insert(uid, stored);
        }
    }
    grafana_plan::plan_dashboards(&desired, &state, &folder, target.config.prune)
}

/// One Grafana request of a deploy, its refusal explained; like [`send_step`], an error
/// says how far the deploy got.
async fn send_grafana_step(
    client: &HttpClient,
    request: &Request,
    what: &str,
    done: usize,
    plan: &Plan,
) -> Result<(), String> {
    let outcome = match client.send(request).await {
        Ok(response) if response.is_success() => Ok(()),
        Ok(response) => Err(grafana_plan::explain_refusal(
            what,
            response.status,
            &response.text(),
        )),
        Err(error) => Err(grafana_error(what, error)),
    };
    outcome.map_err(|error| {
        format!(
            "{error}; {done} of {} changes were applied before this one: run deploy again \
             once the cause is fixed",
            plan.actions.len()
        )
    })
}

/// Applies `plan` exactly; returns why when the server refused it (after restoring).
async fn apply(target: &Target, client: &HttpClient, plan: &Plan) -> Result<(), String> {
    match target.kind {
        TargetKind::Prometheus | TargetKind::ThanosRuler => {
            let dir = PathBuf::from(target.config.rules_dir.clone().unwrap_or_default());
            apply_files(&dir, plan, target, client).await
        }
        TargetKind::Alertmanager => {
            // The plan names the configuration file as given; its folder is the parent.
            apply_files(Path::new(""), plan, target, client).await
        }
        TargetKind::Mimir | TargetKind::Cortex | TargetKind::Loki => {
            for (done, action) in plan.actions.iter().enumerate() {
                let request = match action {
                    Action::PostGroup {
                        namespace, yaml, ..
                    } => Request::post(format!(
                        "{}/{}",
                        ruler_base(target),
                        crate::cli::http::percent_encode(namespace)
                    ))
                    .body("application/yaml", yaml.clone()),
                    Action::DeleteGroup { namespace, group } => Request::delete(format!(
                        "{}/{}/{}",
                        ruler_base(target),
                        crate::cli::http::percent_encode(namespace),
                        crate::cli::http::percent_encode(group)
                    )),
                    other => return Err(format!("unexpected action for a ruler: {other:?}")),
                };
                send_step(client, &request, done, plan).await?;
            }
            verify_replan(target, client).await
        }
        TargetKind::Watcher => {
            for (done, action) in plan.actions.iter().enumerate() {
                let request = match action {
                    Action::PutWatch { id, body } => Request::put(format!(
                        "{}/_watcher/watch/{}",
                        target.url,
                        crate::cli::http::percent_encode(id)
                    ))
                    .body("application/json", body.clone()),
                    Action::DeleteWatch { id } => Request::delete(format!(
                        "{}/_watcher/watch/{}",
                        target.url,
                        crate::cli::http::percent_encode(id)
                    )),
                    other => return Err(format!("unexpected action for Watcher: {other:?}")),
                };
                send_step(client, &request, done, plan).await?;
            }
            verify_replan(target, client).await
        }
        TargetKind::Grafana => {
            for (done, action) in plan.actions.iter().enumerate() {
                let (request, what) = match action {
                    Action::CreateFolder { uid, title } => (
                        Request::post(format!("{}/api/folders", target.url)).body(
                            "application/json",
                            grafana_plan::folder_body(&Folder {
                                uid: uid.clone(),
                                title: title.clone(),
                            }),
                        ),
                        format!("POST /api/folders (folder {uid})"),
                    ),
                    Action::SaveDashboard { uid, body } => (
                        Request::post(format!("{}/api/dashboards/db", target.url))
                            .body("application/json", body.clone()),
                        format!("POST /api/dashboards/db (dashboard {uid})"),
                    ),
                    Action::DeleteDashboard { uid } => {
                        let path = format!(
                            "/api/dashboards/uid/{}",
                            crate::cli::http::percent_encode(uid)
                        );
                        (
                            Request::delete(format!("{}{path}", target.url)),
                            format!("DELETE {path}"),
                        )
                    }
                    other => return Err(format!("unexpected action for Grafana: {other:?}")),
                };
                send_grafana_step(client, &request, &what, done, plan).await?;
            }
            verify_replan(target, client).await
        }
    }
}

/// One request of an API deploy; an error says how far the deploy got, as APIs have no
/// transaction to roll back (running `deploy` again completes it).
async fn send_step(
    client: &HttpClient,
    request: &Request,
    done: usize,
    plan: &Plan,
) -> Result<(), String> {
    client.send_ok(request).await.map(|_| ()).map_err(|error| {
        format!(
            "{error}; {done} of {} changes were applied before this one: run deploy again \
             once the cause is fixed",
            plan.actions.len()
        )
    })
}

/// Asks the server again: after an API deploy nothing may be left to change.
async fn verify_replan(target: &Target, client: &HttpClient) -> Result<(), String> {
    let left = plan_target(target, client).await?;
    if left.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the server accepted every change but still differs:\n{}",
        left.render()
    ))
}

/// Writes or removes the plan's files under `dir`, reloads, verifies; on any failure
/// restores what was there before and reloads again.
async fn apply_files(
    dir: &Path,
    plan: &Plan,
    target: &Target,
    client: &HttpClient,
) -> Result<(), String> {
    let mut previous: Vec<(PathBuf, Option<String>)> = Vec::new();
    for action in &plan.actions {
        let name = match action {
            Action::WriteFile { name, .. } | Action::RemoveFile { name } => name,
            Action::Reload => continue,
            other => return Err(format!("unexpected action for a file target: {other:?}")),
        };
        let path = dir.join(name);
        let before = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        previous.push((path, before));
    }
    let written = write_actions(dir, plan);
    let outcome = match written {
        Ok(()) => reload_and_verify(target, client, plan).await,
        Err(error) => Err(error),
    };
    let Err(why) = outcome else {
        return Ok(());
    };
    if previous.is_empty() {
        return Err(format!(
            "{why}; this deploy wrote no file (the files on disk were already the new ones), \
             so the server still runs its previous configuration: fix the cause and run deploy \
             again"
        ));
    }
    let mut restore_errors = Vec::new();
    for (path, before) in &previous {
        let restored = match before {
            Some(text) => super::atomic_write::write_file_atomically(path, text),
            None => match std::fs::remove_file(path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    Err(format!("cannot remove {}: {error}", path.display()))
                }
                _ => Ok(()),
            },
        };
        if let Err(error) = restored {
            restore_errors.push(error);
        }
    }
    if !restore_errors.is_empty() {
        return Err(format!(
            "{why}; restoring the previous files failed too: {}",
            restore_errors.join("; ")
        ));
    }
    let reloaded = reload(target, client).await;
    Err(match reloaded {
        Ok(()) => format!("{why}; the previous files were restored and reloaded"),
        Err(error) => {
            format!("{why}; the previous files were restored, but reloading them failed: {error}")
        }
    })
}

fn write_actions(dir: &Path, plan: &Plan) -> Result<(), String> {
    for action in &plan.actions {
        match action {
            Action::WriteFile { name, contents } => {
                super::atomic_write::write_file_atomically(&dir.join(name), contents)?
            }
            Action::RemoveFile { name } => {
                let path = dir.join(name);
                std::fs::remove_file(&path)
                    .map_err(|error| format!("cannot remove {}: {error}", path.display()))?;
            }
            Action::Reload
            | Action::PostGroup { .. }
            | Action::DeleteGroup { .. }
            | Action::PutWatch { .. }
            | Action::DeleteWatch { .. }
            | Action::CreateFolder { .. }
            | Action::SaveDashboard { .. }
            | Action::DeleteDashboard { .. } => {}
        }
    }
    Ok(())
}

/// `POST /-/reload` once: a rejected configuration will not be accepted by asking again.
async fn reload(target: &Target, client: &HttpClient) -> Result<(), String> {
    let once = HttpClient::new(ClientOptions {
        retries: 0,
        ..client.options().clone()
    })
    .map_err(|error| error.to_string())?;
    let rejected = |status: u16, body: &str| {
        format!(
            "{} rejected the new configuration (HTTP {status} on reload): {}",
            target.kind.as_str(),
            body.trim()
        )
    };
    match once
        .send(&Request::post(format!("{}/-/reload", target.url)))
        .await
    {
        Ok(response) if response.is_success() => Ok(()),
        Ok(response) => Err(rejected(response.status, &response.text())),
        Err(HttpError {
            kind: HttpErrorKind::Status { status, body },
            ..
        }) => Err(rejected(status, &body)),
        Err(error) => Err(format!("reload failed: {error}")),
    }
}

async fn reload_and_verify(
    target: &Target,
    client: &HttpClient,
    plan: &Plan,
) -> Result<(), String> {
    reload(target, client).await?;
    match target.kind {
        TargetKind::Alertmanager => {
            let written = plan.actions.iter().find_map(|action| match action {
                Action::WriteFile { contents, .. } => Some(contents.as_str()),
                _ => None,
            });
            if let Some(written) = written {
                let status = get_ok(client, format!("{}/api/v2/status", target.url)).await?;
                deploy::verify_alertmanager_status(written, &status)?;
            }
        }
        _ => {
            let rules = get_ok(client, format!("{}/api/v1/rules", target.url)).await?;
            deploy::verify_loaded_rules(plan, &rules)?;
        }
    }
    // The whole state once more, as the next `diff` would see it: the server must now run
    // exactly the files on disk.
    let left = plan_target(target, client).await?;
    if left.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the reload was accepted but the server does not run the files on disk:\n{}",
        left.render().trim_end()
    ))
}
