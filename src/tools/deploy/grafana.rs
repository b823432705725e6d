//! Planning a Grafana deploy through its HTTP API: the generated dashboards against what
//! Grafana holds, as a [`Plan`] of folder creation, dashboard saves and deletions.
//!
//! Invariants:
//! - A dashboard is mlslo's when its uid starts with [`naming::GRAFANA_UID_PREFIX`] and it
//!   carries the [`DASHBOARD_TAG`] tag. Only those are replaced or deleted; a dashboard in
//!   the way of a generated uid that is not mlslo's is an error, a tagged one with another
//!   uid is left alone with a note.
//! - Content is compared without Grafana's own bookkeeping (`id`, `version`), so a
//!   dashboard saved by the previous deploy is no change.
//! - A save names the version the plan read and never asks Grafana to overwrite: a
//!   dashboard edited in the UI between `diff` and `deploy` makes Grafana answer 412
//!   (version-mismatch) instead of losing the edit, and a hand-made dashboard of the same
//!   title in the folder is refused (412 name-exists) instead of replaced, which
//!   `overwrite: true` would do.
//! - Dashboards of services that are gone are deleted only when the caller asks
//!   (`prune`); otherwise each is a note.
//! - Pure: the CLI asks Grafana and hands the answers over as text.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};

use super::{Action, Change, ChangeKind, Plan};
use crate::compiler::emit::grafana::DASHBOARD_TAG;
use crate::compiler::ir::{naming, DEFAULT_GRAFANA_FOLDER};

/// The folder dashboards go to when the target names none: the title is the one of the
/// file-provisioning configuration, so both ways of loading show the same folder.
pub const DEFAULT_FOLDER_UID: &str = "mlslo";
pub const DEFAULT_FOLDER_TITLE: &str = DEFAULT_GRAFANA_FOLDER;

/// Dashboards asked for in one search request (Grafana's default `limit`).
pub const SEARCH_PAGE_SIZE: usize = 1000;
/// Search pages read at most: 100,000 tagged dashboards, far past any real Grafana, so a
/// server that pages without end stops the deploy with an error naming the limit.
pub const MAX_SEARCH_PAGES: usize = 100;

/// The message Grafana keeps in the dashboard's version history.
pub const SAVE_MESSAGE: &str = "Saved by mlslo deploy";

/// The Grafana folder a deploy writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub uid: String,
    pub title: String,
}

/// One row of `GET /api/search`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
}

/// A dashboard as `GET /api/dashboards/uid/<uid>` returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDashboard {
    pub dashboard: Json,
    /// Empty for the root ("General") folder.
    pub folder_uid: String,
    /// Loaded from files by Grafana's provisioning: the API refuses to save it.
    pub provisioned: bool,
}

/// Everything the plan needs to know of one Grafana.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GrafanaState {
    /// The title of the target folder, `None` when it does not exist.
    pub folder_title: Option<String>,
    /// Every dashboard carrying [`DASHBOARD_TAG`].
    pub tagged: Vec<SearchHit>,
    /// The stored dashboard of each generated uid that exists, and of each of mlslo's
    /// dashboards whose service is gone when they are to be deleted.
    pub stored: BTreeMap<String, StoredDashboard>,
}

/// Whether a dashboard is mlslo's to replace or delete.
pub fn is_owned(uid: &str, tags: &[String]) -> bool {
    uid.starts_with(naming::GRAFANA_UID_PREFIX) && tags.iter().any(|tag| tag == DASHBOARD_TAG)
}

fn tags_of(dashboard: &Json) -> Vec<String> {
    dashboard
        .get("tags")
        .and_then(Json::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn uid_of(dashboard: &Json) -> Option<&str> {
    dashboard.get("uid").and_then(Json::as_str)
}

fn title_of(dashboard: &Json) -> &str {
    dashboard
        .get("title")
        .and_then(Json::as_str)
        .unwrap_or_default()
}

/// A generated dashboard file: its uid and JSON; `file` names it in errors. A file that
/// `mlslo build` did not write (no `mlslo-` uid or no `mlslo` tag) is refused, as
/// deploying it would make a dashboard the next deploy cannot recognise.
pub fn generated_dashboard(file: &str, text: &str) -> Result<(String, Json), String> {
    let dashboard: Json =
        serde_json::from_str(text).map_err(|error| format!("{file}: not JSON: {error}"))?;
    let uid = uid_of(&dashboard)
        .ok_or_else(|| format!("{file}: the dashboard has no uid"))?
        .to_string();
    if !is_owned(&uid, &tags_of(&dashboard)) {
        return Err(format!(
            "{file}: not a dashboard of `mlslo build` (its uid must start with `{}` and its \
             tags hold `{DASHBOARD_TAG}`): rebuild with `mlslo build`",
            naming::GRAFANA_UID_PREFIX
        ));
    }
    Ok((uid, dashboard))
}

/// One page of `GET /api/search`: a JSON array of hits.
pub fn search_page(body: &str) -> Result<Vec<SearchHit>, String> {
    let value: Json = serde_json::from_str(body)
        .map_err(|error| format!("Grafana's search answer is not JSON: {error}"))?;
    let hits = value
        .as_array()
        .ok_or_else(|| "Grafana's search answer is not a list".to_string())?;
    hits.iter()
        .map(|hit| {
            let uid = uid_of(hit)
                .ok_or_else(|| "a dashboard in Grafana's search answer has no uid".to_string())?;
            Ok(SearchHit {
                uid: uid.to_string(),
                title: title_of(hit).to_string(),
                tags: tags_of(hit),
            })
        })
        .collect()
}

/// The answer of `GET /api/dashboards/uid/<uid>`.
pub fn stored_dashboard(uid: &str, body: &str) -> Result<StoredDashboard, String> {
    let value: Json = serde_json::from_str(body)
        .map_err(|error| format!("Grafana's answer for dashboard {uid} is not JSON: {error}"))?;
    let dashboard = value
        .get("dashboard")
        .filter(|dashboard| dashboard.is_object())
        .cloned()
        .ok_or_else(|| format!("Grafana's answer for dashboard {uid} has no `dashboard`"))?;
    let meta = value.get("meta");
    let folder_uid = meta
        .and_then(|meta| meta.get("folderUid"))
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let provisioned = meta
        .and_then(|meta| meta.get("provisioned"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    Ok(StoredDashboard {
        dashboard,
        folder_uid,
        provisioned,
    })
}

/// The title of `GET /api/folders/<uid>`'s answer.
pub fn folder_title(body: &str) -> Result<String, String> {
    let value: Json = serde_json::from_str(body)
        .map_err(|error| format!("Grafana's folder answer is not JSON: {error}"))?;
    Ok(title_of(&value).to_string())
}

/// The dashboard without what Grafana sets on every save.
fn content(dashboard: &Json) -> Json {
    let mut content = dashboard.clone();
    if let Some(object) = content.as_object_mut() {
        object.remove("id");
        object.remove("version");
    }
    content
}

fn pretty(value: &Json) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// The body of `POST /api/dashboards/db`: the dashboard with the version it replaces (none
/// for a new one, so a dashboard made meanwhile under the uid is not replaced either).
pub fn save_body(dashboard: &Json, replaces_version: Option<u64>, folder_uid: &str) -> String {
    let mut dashboard = content(dashboard);
    if let (Some(object), Some(version)) = (dashboard.as_object_mut(), replaces_version) {
        object.insert("version".to_string(), json!(version));
    }
    json!({
        "dashboard": dashboard,
        "folderUid": folder_uid,
        "message": SAVE_MESSAGE,
        "overwrite": false,
    })
    .to_string()
}

/// The body of `POST /api/folders`.
pub fn folder_body(folder: &Folder) -> String {
    json!({"uid": folder.uid, "title": folder.title}).to_string()
}

/// Plans a Grafana deploy: `desired` maps uid to generated dashboard.
pub fn plan_dashboards(
    desired: &BTreeMap<String, Json>,
    state: &GrafanaState,
    folder: &Folder,
    prune: bool,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    match &state.folder_title {
        None if !desired.is_empty() => {
            plan.changes.push(Change {
                kind: ChangeKind::Add,
                subject: format!("folder {} \"{}\"", folder.uid, folder.title),
                before: String::new(),
                after: format!("uid: {}\ntitle: {}\n", folder.uid, folder.title),
            });
            plan.actions.push(Action::CreateFolder {
                uid: folder.uid.clone(),
                title: folder.title.clone(),
            });
        }
        Some(title) if *title != folder.title => plan.notes.push(format!(
            "folder {} is titled \"{title}\" in Grafana, not \"{}\": left as it is",
            folder.uid, folder.title
        )),
        _ => {}
    }
    for (uid, dashboard) in desired {
        let subject = format!("dashboard {uid} \"{}\"", title_of(dashboard));
        let Some(stored) = state.stored.get(uid) else {
            plan.changes.push(Change {
                kind: ChangeKind::Add,
                subject: format!("{subject} in folder {}", folder.uid),
                before: String::new(),
                after: pretty(&content(dashboard)),
            });
            plan.actions.push(Action::SaveDashboard {
                uid: uid.clone(),
                body: save_body(dashboard, None, &folder.uid),
            });
            continue;
        };
        if !is_owned(uid, &tags_of(&stored.dashboard)) {
            return Err(format!(
                "dashboard {uid} (\"{}\") exists in Grafana but is not mlslo's (no `{DASHBOARD_TAG}` \
                 tag): refusing to replace it; move it to another uid or rename the service",
                title_of(&stored.dashboard)
            ));
        }
        if stored.provisioned {
            return Err(format!(
                "dashboard {uid} is provisioned from files in Grafana, which its API cannot \
                 replace: deploy it through the file provisioning (generated/grafana/) or \
                 remove it from there first"
            ));
        }
        let (before, after) = (content(&stored.dashboard), content(dashboard));
        let moved = stored.folder_uid != folder.uid;
        if before == after && !moved {
            continue;
        }
        let mut before_text = pretty(&before);
        let mut after_text = pretty(&after);
        let subject = if moved {
            before_text = format!("folder: {}\n{before_text}", stored.folder_uid);
            after_text = format!("folder: {}\n{after_text}", folder.uid);
            let from = if stored.folder_uid.is_empty() {
                "the root folder".to_string()
            } else {
                format!("folder {}", stored.folder_uid)
            };
            format!("{subject} (moves from {from} to folder {})", folder.uid)
        } else {
            subject
        };
        plan.changes.push(Change {
            kind: ChangeKind::Update,
            subject,
            before: before_text,
            after: after_text,
        });
        let version = stored.dashboard.get("version").and_then(Json::as_u64);
        plan.actions.push(Action::SaveDashboard {
            uid: uid.clone(),
            body: save_body(dashboard, Some(version.unwrap_or(0)), &folder.uid),
        });
    }
    let mut seen = BTreeSet::new();
    for hit in &state.tagged {
        if desired.contains_key(&hit.uid) || !seen.insert(hit.uid.as_str()) {
            continue;
        }
        if !is_owned(&hit.uid, &hit.tags) {
            plan.notes.push(format!(
                "dashboard {} (\"{}\") left alone: tagged `{DASHBOARD_TAG}`, but its uid does \
                 not start with `{}`",
                hit.uid,
                hit.title,
                naming::GRAFANA_UID_PREFIX
            ));
            continue;
        }
        if !prune {
            plan.notes.push(format!(
                "dashboard {} (\"{}\") is mlslo's but no generated dashboard has its uid (its \
                 service is gone?): left; give --prune to delete it",
                hit.uid, hit.title
            ));
            continue;
        }
        let before = state
            .stored
            .get(&hit.uid)
            .map(|stored| pretty(&content(&stored.dashboard)))
            .unwrap_or_default();
        plan.changes.push(Change {
            kind: ChangeKind::Remove,
            subject: format!("dashboard {} \"{}\"", hit.uid, hit.title),
            before,
            after: String::new(),
        });
        plan.actions.push(Action::DeleteDashboard {
            uid: hit.uid.clone(),
        });
    }
    Ok(plan)
}

/// The uids of mlslo's dashboards that are not generated: those a pruning plan reads
/// before deleting them.
pub fn stale_owned<'a>(desired: &BTreeMap<String, Json>, tagged: &'a [SearchHit]) -> Vec<&'a str> {
    tagged
        .iter()
        .filter(|hit| !desired.contains_key(&hit.uid) && is_owned(&hit.uid, &hit.tags))
        .map(|hit| hit.uid.as_str())
        .collect()
}

/// What a refused Grafana request means, from its status and the `message`/`status` of its
/// JSON body (as Grafana's HTTP API documents them), for the one who runs the deploy.
pub fn explain_refusal(request: &str, status: u16, body: &str) -> String {
    let parsed: Option<Json> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|value| value.get(name))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let message = field("message");
    let said = if message.is_empty() {
        body.trim().to_string()
    } else {
        message
    };
    let why = match (status, field("status").as_str()) {
        (401, _) => "Grafana refused the credentials: give a service account token in \
                     MLSLO_BEARER_TOKEN or --bearer-token-file"
            .to_string(),
        (403, _) => "the credentials lack a permission (saving dashboards in the folder, \
                     creating folders): give the service account the Editor role or the \
                     folder's Edit permission"
            .to_string(),
        (412, "version-mismatch") => "the dashboard was changed in Grafana after this deploy \
                                      read it; nothing was overwritten: run `mlslo diff` to \
                                      see the change, then deploy again"
            .to_string(),
        (412, "name-exists") => "another dashboard with the same title is in the folder or \
                                 already has this uid; mlslo does not replace it: rename or \
                                 move it"
            .to_string(),
        (409, _) => "a folder with that title exists under another uid: give its uid as \
                     the target's folder_uid, or another folder title"
            .to_string(),
        _ => String::new(),
    };
    let mut text = format!("{request}: HTTP {status}");
    if !said.is_empty() {
        text.push_str(&format!(": {said}"));
    }
    if !why.is_empty() {
        text.push_str(&format!(" ({why})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard(uid: &str, title: &str, tags: &[&str]) -> Json {
        json!({"uid": uid, "title": title, "tags": tags, "panels": [], "version": 1})
    }

    fn folder() -> Folder {
        Folder {
            uid: DEFAULT_FOLDER_UID.to_string(),
            title: DEFAULT_FOLDER_TITLE.to_string(),
        }
    }

    fn stored(dashboard: Json, folder_uid: &str) -> StoredDashboard {
        StoredDashboard {
            dashboard,
            folder_uid: folder_uid.to_string(),
            provisioned: false,
        }
    }

    fn desired(dashboards: &[Json]) -> BTreeMap<String, Json> {
        dashboards
            .iter()
            .map(|d| (uid_of(d).expect("uid").to_string(), d.clone()))
            .collect()
    }

    #[test]
    fn a_fresh_grafana_gets_the_folder_then_every_dashboard() {
        let want = desired(&[dashboard("mlslo-a", "a SLOs", &["mlslo"])]);
        let plan =
            plan_dashboards(&want, &GrafanaState::default(), &folder(), false).expect("plan");
        assert!(
            matches!(&plan.actions[..], [Action::CreateFolder { uid, .. }, Action::SaveDashboard { uid: saved, body }]
            if uid == "mlslo" && saved == "mlslo-a" && !body.contains("\"version\"") && body.contains("\"overwrite\":false"))
        );
    }

    #[test]
    fn id_and_version_are_no_change_but_a_title_or_folder_is() {
        let want = desired(&[dashboard("mlslo-a", "a SLOs", &["mlslo"])]);
        let mut saved = dashboard("mlslo-a", "a SLOs", &["mlslo"]);
        saved["id"] = json!(7);
        saved["version"] = json!(4);
        let mut state = GrafanaState {
            folder_title: Some(DEFAULT_FOLDER_TITLE.to_string()),
            ..GrafanaState::default()
        };
        state
            .stored
            .insert("mlslo-a".to_string(), stored(saved.clone(), "mlslo"));
        assert!(plan_dashboards(&want, &state, &folder(), false)
            .expect("plan")
            .is_empty());
        state
            .stored
            .insert("mlslo-a".to_string(), stored(saved.clone(), "other"));
        let plan = plan_dashboards(&want, &state, &folder(), false).expect("plan");
        assert_eq!(
            plan.changes[0].subject,
            "dashboard mlslo-a \"a SLOs\" (moves from folder other to folder mlslo)"
        );
        saved["title"] = json!("edited");
        state
            .stored
            .insert("mlslo-a".to_string(), stored(saved, "mlslo"));
        let plan = plan_dashboards(&want, &state, &folder(), false).expect("plan");
        let [Action::SaveDashboard { body, .. }] = &plan.actions[..] else {
            panic!("{plan:?}");
        };
        let body: Json = serde_json::from_str(body).expect("JSON");
        assert_eq!(body["dashboard"]["version"], json!(4));
        assert_eq!(body["dashboard"].get("id"), None);
        assert!(plan.render().contains("-  \"title\": \"edited\",\n"));
    }

    #[test]
    fn only_owned_dashboards_are_replaced_or_deleted() {
        let want = desired(&[dashboard("mlslo-a", "a SLOs", &["mlslo"])]);
        let mut state = GrafanaState::default();
        state.stored.insert(
            "mlslo-a".to_string(),
            stored(dashboard("mlslo-a", "mine", &["ops"]), ""),
        );
        let error = plan_dashboards(&want, &state, &folder(), true).expect_err("not owned");
        assert!(error.contains("is not mlslo's"), "{error}");
        state.stored.clear();
        state.tagged = vec![
            SearchHit {
                uid: "hand-made".to_string(),
                title: "copied".to_string(),
                tags: vec!["mlslo".to_string()],
            },
            SearchHit {
                uid: "mlslo-gone".to_string(),
                title: "gone SLOs".to_string(),
                tags: vec!["mlslo".to_string()],
            },
        ];
        let kept = plan_dashboards(&want, &state, &folder(), false).expect("plan");
        assert_eq!(kept.notes.len(), 2, "{kept:?}");
        assert!(!kept
            .actions
            .iter()
            .any(|a| matches!(a, Action::DeleteDashboard { .. })));
        assert_eq!(stale_owned(&want, &state.tagged), ["mlslo-gone"]);
        let pruned = plan_dashboards(&want, &state, &folder(), true).expect("plan");
        assert!(pruned
            .actions
            .iter()
            .any(|a| matches!(a, Action::DeleteDashboard { uid } if uid == "mlslo-gone")));
        assert_eq!(pruned.notes.len(), 1);
    }

    #[test]
    fn refusals_say_what_grafana_meant() {
        let text = explain_refusal(
            "POST /api/dashboards/db (dashboard mlslo-a)",
            412,
            r#"{"message":"The dashboard has been changed by someone else","status":"version-mismatch"}"#,
        );
        assert!(
            text.starts_with("POST /api/dashboards/db (dashboard mlslo-a): HTTP 412: The dashboard has been changed by someone else (the dashboard was changed in Grafana after"),
            "{text}"
        );
        assert!(
            explain_refusal("GET x", 401, r#"{"message":"Unauthorized"}"#)
                .contains("MLSLO_BEARER_TOKEN")
        );
    }

    #[test]
    fn generated_files_must_be_mlslo_dashboards() {
        assert!(generated_dashboard("a.json", r#"{"uid":"x","tags":["mlslo"]}"#).is_err());
        assert!(generated_dashboard("a.json", "{").is_err());
        let (uid, _) = generated_dashboard("a.json", r#"{"uid":"mlslo-a","tags":["mlslo"]}"#)
            .expect("generated");
        assert_eq!(uid, "mlslo-a");
    }
}
