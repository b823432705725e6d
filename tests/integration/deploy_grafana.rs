//! `mlslo diff` / `mlslo deploy --kind grafana` against a fake Grafana: no Grafana server can
//! be installed on this machine, so a small local HTTP server in this file stands in for
//! Grafana's HTTP API as its documentation describes it (the dashboard, folder and search
//! APIs: paths, status codes, JSON bodies). It is a fake, not Grafana: what it checks is our
//! client's side of the protocol. Its save follows the documented rules the deploy relies
//! on: without `overwrite`, a save whose `version` is not the stored one is refused with 412
//! `version-mismatch`, and one whose title is taken in the folder by another uid with 412
//! `name-exists`; every save bumps the version and sets `id`.
//!
//! Each test starts its own fake, stopped when the test ends.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};

use crate::support::{generated, mlslo_in, scratch, stderr, stdout, FakeServer};

const TOKEN: &str = "glsa_fake-service-account-token";

#[derive(Clone, Debug)]
struct Stored {
    dashboard: Json,
    folder_uid: String,
}

/// What the fake holds, and the faults it is told to show.
#[derive(Debug, Default)]
struct Grafana {
    /// uid -> title
    folders: BTreeMap<String, String>,
    dashboards: BTreeMap<String, Stored>,
    next_id: u64,
    /// Every save answers this status (a Grafana whose database is down).
    failing_saves: Option<u16>,
    /// The next save first sees the dashboard edited in the UI (a newer version).
    edit_before_next_save: bool,
}

impl Grafana {
    fn put(&mut self, dashboard: Json, folder_uid: &str) {
        let uid = dashboard["uid"].as_str().expect("uid").to_string();
        self.next_id += 1;
        let mut dashboard = dashboard;
        dashboard["id"] = json!(self.next_id);
        self.dashboards.insert(
            uid,
            Stored {
                dashboard,
                folder_uid: folder_uid.to_string(),
            },
        );
    }
}

fn slug(title: &str) -> String {
    let mut slug = String::new();
    for character in title.to_lowercase().chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

fn query_pairs(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn answer(status: u16, body: Json) -> (u16, &'static str, String) {
    (status, "application/json", body.to_string())
}

/// The fake Grafana; a request without `Authorization: Bearer TOKEN` gets 401.
fn grafana(state: Arc<Mutex<Grafana>>) -> FakeServer {
    FakeServer::start(move |request| {
        if request.headers.get("authorization").map(String::as_str)
            != Some(&format!("Bearer {TOKEN}"))
        {
            return answer(401, json!({"message": "Unauthorized"}));
        }
        let mut state = state.lock().expect("lock");
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        let query = query_pairs(query);
        match (request.method.as_str(), path) {
            ("GET", "/api/search") => {
                let tag = query.get("tag").cloned();
                let limit: usize = query
                    .get("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(1000);
                let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                let hits: Vec<Json> = state
                    .dashboards
                    .values()
                    .filter(|stored| match &tag {
                        None => true,
                        Some(tag) => stored.dashboard["tags"]
                            .as_array()
                            .is_some_and(|tags| tags.iter().any(|t| t == tag.as_str())),
                    })
                    .skip((page - 1) * limit)
                    .take(limit)
                    .map(|stored| {
                        let d = &stored.dashboard;
                        let uid = d["uid"].as_str().unwrap_or_default();
                        let title = d["title"].as_str().unwrap_or_default();
                        json!({
                            "id": d["id"], "uid": uid, "title": title,
                            "uri": format!("db/{}", slug(title)),
                            "url": format!("/d/{uid}/{}", slug(title)),
                            "slug": "", "type": "dash-db", "tags": d["tags"],
                            "isStarred": false, "folderUid": stored.folder_uid,
                        })
                    })
                    .collect();
                answer(200, Json::Array(hits))
            }
            ("POST", "/api/folders") => {
                let body: Json = serde_json::from_str(&request.body).unwrap_or_default();
                let (Some(uid), Some(title)) = (body["uid"].as_str(), body["title"].as_str())
                else {
                    return answer(400, json!({"message": "bad request data"}));
                };
                if state.folders.values().any(|t| t == title) {
                    return answer(
                        409,
                        json!({"message": "a folder or dashboard in the general folder with the same name already exists"}),
                    );
                }
                state.folders.insert(uid.to_string(), title.to_string());
                answer(
                    200,
                    json!({"id": 1, "uid": uid, "title": title, "url": format!("/dashboards/f/{uid}/{}", slug(title)), "version": 1}),
                )
            }
            ("POST", "/api/dashboards/db") => {
                if let Some(status) = state.failing_saves {
                    return answer(status, json!({"message": "Failed to save dashboard"}));
                }
                let body: Json = serde_json::from_str(&request.body).unwrap_or_default();
                let mut dashboard = body["dashboard"].clone();
                let overwrite = body["overwrite"].as_bool().unwrap_or(false);
                let folder_uid = body["folderUid"].as_str().unwrap_or_default().to_string();
                let Some(uid) = dashboard["uid"].as_str().map(str::to_string) else {
                    return answer(400, json!({"message": "bad request data"}));
                };
                if !folder_uid.is_empty() && !state.folders.contains_key(&folder_uid) {
                    return answer(400, json!({"message": "folder not found"}));
                }
                if std::mem::take(&mut state.edit_before_next_save) {
                    if let Some(stored) = state.dashboards.get_mut(&uid) {
                        let version = stored.dashboard["version"].as_u64().unwrap_or(0);
                        stored.dashboard["version"] = json!(version + 1);
                        stored.dashboard["title"] = json!("edited in the UI meanwhile");
                    }
                }
                let existing = state.dashboards.get(&uid).cloned();
                let title = dashboard["title"].as_str().unwrap_or_default().to_string();
                let title_taken = state.dashboards.values().any(|other| {
                    other.dashboard["uid"] != dashboard["uid"]
                        && other.folder_uid == folder_uid
                        && other.dashboard["title"] == title.as_str()
                });
                if title_taken && !overwrite {
                    return answer(
                        412,
                        json!({"message": "A dashboard with the same name in the folder already exists", "status": "name-exists"}),
                    );
                }
                let version = match &existing {
                    Some(existing) => {
                        let stored_version = existing.dashboard["version"].as_u64().unwrap_or(0);
                        if !overwrite && dashboard["version"].as_u64() != Some(stored_version) {
                            return answer(
                                412,
                                json!({"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}),
                            );
                        }
                        stored_version + 1
                    }
                    None => 1,
                };
                dashboard["version"] = json!(version);
                state.put(dashboard.clone(), &folder_uid);
                if let Some(existing) = existing {
                    // A save keeps the dashboard's id.
                    state
                        .dashboards
                        .get_mut(&uid)
                        .expect("just saved")
                        .dashboard["id"] = existing.dashboard["id"].clone();
                }
                let id = state.dashboards[&uid].dashboard["id"].clone();
                answer(
                    200,
                    json!({"id": id, "uid": uid, "url": format!("/d/{uid}/{}", slug(&title)), "status": "success", "version": version, "slug": slug(&title)}),
                )
            }
            (method, path) => {
                if let Some(uid) = path.strip_prefix("/api/folders/") {
                    return match (method, state.folders.get(uid)) {
                        ("GET", Some(title)) => {
                            answer(200, json!({"id": 1, "uid": uid, "title": title}))
                        }
                        ("GET", None) => answer(404, json!({"message": "folder not found"})),
                        _ => answer(405, json!({"message": "Method Not Allowed"})),
                    };
                }
                let Some(uid) = path.strip_prefix("/api/dashboards/uid/") else {
                    return answer(404, json!({"message": "Not found"}));
                };
                match method {
                    "GET" => match state.dashboards.get(uid) {
                        Some(stored) => {
                            let title = stored.dashboard["title"].as_str().unwrap_or_default();
                            answer(
                                200,
                                json!({"dashboard": stored.dashboard, "meta": {
                                    "type": "db", "canSave": true, "canEdit": true,
                                    "slug": slug(title), "url": format!("/d/{uid}/{}", slug(title)),
                                    "version": stored.dashboard["version"],
                                    "folderUid": stored.folder_uid,
                                    "folderTitle": state.folders.get(&stored.folder_uid).cloned().unwrap_or_else(|| "General".to_string()),
                                    "provisioned": false,
                                }}),
                            )
                        }
                        None => answer(404, json!({"message": "Dashboard not found"})),
                    },
                    "DELETE" => match state.dashboards.remove(uid) {
                        Some(stored) => answer(
                            200,
                            json!({"title": stored.dashboard["title"], "message": format!("Dashboard {} deleted", stored.dashboard["title"].as_str().unwrap_or_default()), "id": stored.dashboard["id"]}),
                        ),
                        None => answer(404, json!({"message": "Dashboard not found"})),
                    },
                    _ => answer(405, json!({"message": "Method Not Allowed"})),
                }
            }
        }
    })
}

/// The generated dashboards by uid.
fn generated_dashboards() -> BTreeMap<String, Json> {
    let mut dashboards = BTreeMap::new();
    for entry in std::fs::read_dir(generated().join("grafana")).expect("generated/grafana") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            let dashboard: Json =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            dashboards.insert(
                dashboard["uid"].as_str().expect("uid").to_string(),
                dashboard,
            );
        }
    }
    dashboards
}

fn without_bookkeeping(dashboard: &Json) -> Json {
    let mut dashboard = dashboard.clone();
    let object = dashboard.as_object_mut().expect("object");
    object.remove("id");
    object.remove("version");
    dashboard
}

fn run(server: &FakeServer, command: &str, extra: &[&str], token: &str) -> std::process::Output {
    let dir = scratch("deploy-grafana");
    let url = server.url();
    let source = generated().display().to_string();
    let mut arguments = vec![
        command,
        "--kind",
        "grafana",
        "--url",
        &url,
        "--source",
        &source,
        "--retries",
        "1",
    ];
    arguments.extend_from_slice(extra);
    mlslo_in(dir.path(), &arguments, &[("MLSLO_BEARER_TOKEN", token)])
}

fn saves(server: &FakeServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.method != "GET")
        .count()
}

fn hand_made(uid: &str, title: &str, tags: &[&str]) -> Json {
    json!({"uid": uid, "title": title, "tags": tags, "panels": [], "version": 3, "schemaVersion": 39})
}

#[test]
fn grafana_deploy_creates_changes_nothing_twice_and_leaves_hand_made_dashboards() {
    let state = Arc::new(Mutex::new(Grafana::default()));
    let ops = hand_made("ops-overview", "Ops overview", &["ops"]);
    let copy = hand_made("copy-of-slos", "My copy", &["mlslo"]);
    let retired = hand_made("mlslo-retired", "retired SLOs", &["mlslo", "retired"]);
    {
        let mut state = state.lock().expect("lock");
        state.folders.insert("team".to_string(), "Team".to_string());
        state.put(ops.clone(), "team");
        state.put(copy.clone(), "team");
        state.put(retired.clone(), "mlslo");
    }
    let server = grafana(state.clone());
    let wanted = generated_dashboards();
    assert_eq!(wanted.len(), 5);

    let diff = run(&server, "diff", &[], TOKEN);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    assert!(shown.contains("+ add folder mlslo \"SLOs\"\n"), "{shown}");
    assert!(
        shown.contains(
            "+ add dashboard mlslo-fraud-detector \"fraud-detector SLOs\" in folder mlslo\n"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("note: dashboard copy-of-slos (\"My copy\") left alone"),
        "{shown}"
    );
    assert!(
        shown.contains("note: dashboard mlslo-retired (\"retired SLOs\") is mlslo's but no generated dashboard has its uid"),
        "{shown}"
    );
    assert!(
        shown.ends_with("6 to add, 0 to change, 0 to remove\n"),
        "{shown}"
    );
    assert_eq!(saves(&server), 0, "diff changes nothing");

    let deploy = run(&server, "deploy", &[], TOKEN);
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    assert!(
        stdout(&deploy).ends_with("deployed\n"),
        "{}",
        stdout(&deploy)
    );
    {
        let state = state.lock().expect("lock");
        assert_eq!(state.folders.get("mlslo").map(String::as_str), Some("SLOs"));
        for (uid, dashboard) in &wanted {
            let stored = &state.dashboards[uid];
            assert_eq!(stored.folder_uid, "mlslo");
            assert_eq!(
                without_bookkeeping(&stored.dashboard),
                without_bookkeeping(dashboard)
            );
        }
        assert_eq!(
            state.dashboards["ops-overview"].dashboard["title"],
            ops["title"]
        );
        assert_eq!(
            state.dashboards["copy-of-slos"].dashboard["version"],
            json!(3)
        );
        assert!(state.dashboards.contains_key("mlslo-retired"));
    }
    let saves_after_first = saves(&server);
    assert_eq!(saves_after_first, 6, "one folder and five dashboards");

    let again = run(&server, "deploy", &[], TOKEN);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).ends_with("nothing to change\n"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        saves(&server),
        saves_after_first,
        "an unchanged Grafana gets no POST"
    );

    let pruned = run(&server, "deploy", &["--prune"], TOKEN);
    assert_eq!(pruned.status.code(), Some(0), "{}", stderr(&pruned));
    assert!(
        stdout(&pruned).contains("- remove dashboard mlslo-retired \"retired SLOs\"\n"),
        "{}",
        stdout(&pruned)
    );
    let state = state.lock().expect("lock");
    assert!(!state.dashboards.contains_key("mlslo-retired"));
    assert!(state.dashboards.contains_key("copy-of-slos"));
    assert!(state.dashboards.contains_key("ops-overview"));
}

#[test]
fn grafana_dashboard_edited_in_the_ui_is_shown_and_replaced_at_its_version() {
    let state = Arc::new(Mutex::new(Grafana::default()));
    let server = grafana(state.clone());
    assert_eq!(run(&server, "deploy", &[], TOKEN).status.code(), Some(0));
    {
        let mut state = state.lock().expect("lock");
        let stored = state.dashboards.get_mut("mlslo-ranking").expect("deployed");
        stored.dashboard["title"] = json!("ranking (edited)");
        stored.dashboard["version"] = json!(5);
    }
    let diff = run(&server, "diff", &[], TOKEN);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let shown = stdout(&diff);
    assert!(
        shown.contains("~ change dashboard mlslo-ranking \"ranking SLOs\"\n"),
        "{shown}"
    );
    assert!(
        shown.contains("-  \"title\": \"ranking (edited)\",\n+  \"title\": \"ranking SLOs\",\n"),
        "{shown}"
    );
    assert!(
        shown.ends_with("0 to add, 1 to change, 0 to remove\n"),
        "{shown}"
    );

    let deploy = run(&server, "deploy", &[], TOKEN);
    assert_eq!(deploy.status.code(), Some(0), "{}", stderr(&deploy));
    let posted: Json = serde_json::from_str(
        &server
            .requests()
            .iter()
            .rev()
            .find(|request| request.method == "POST")
            .expect("a save")
            .body,
    )
    .expect("JSON");
    assert_eq!(
        posted["dashboard"]["version"],
        json!(5),
        "the version it replaces"
    );
    assert_eq!(posted["overwrite"], json!(false));
    assert_eq!(posted["folderUid"], json!("mlslo"));
    assert!(posted["message"].is_string());
    let state = state.lock().expect("lock");
    assert_eq!(
        state.dashboards["mlslo-ranking"].dashboard["title"],
        json!("ranking SLOs")
    );
    assert_eq!(
        state.dashboards["mlslo-ranking"].dashboard["version"],
        json!(6)
    );
}

#[test]
fn grafana_refusals_are_reported_clearly_and_overwrite_nothing() {
    let state = Arc::new(Mutex::new(Grafana::default()));
    let server = grafana(state.clone());

    // 401: the token is refused, and never printed.
    let refused = run(&server, "diff", &[], "glsa_wrong-token-123");
    assert_eq!(refused.status.code(), Some(2));
    let said = stderr(&refused);
    assert!(
        said.contains("HTTP 401: Unauthorized (Grafana refused the credentials"),
        "{said}"
    );
    assert!(!said.contains("glsa_wrong-token-123"), "{said}");

    // 5xx: retried, then the deploy stops and says how far it got.
    state.lock().expect("lock").failing_saves = Some(503);
    let failed = run(&server, "deploy", &[], TOKEN);
    assert_eq!(failed.status.code(), Some(2));
    let said = stderr(&failed);
    assert!(
        said.contains("POST /api/dashboards/db (dashboard mlslo-feature-pipeline): HTTP 503"),
        "{said}"
    );
    assert!(
        said.contains("1 of 6 changes were applied before this one"),
        "{said}"
    );
    state.lock().expect("lock").failing_saves = None;
    assert_eq!(run(&server, "deploy", &[], TOKEN).status.code(), Some(0));

    // 412 version-mismatch: an edit made in the UI between the plan and the save is kept.
    state
        .lock()
        .expect("lock")
        .dashboards
        .get_mut("mlslo-ranking")
        .expect("deployed")
        .dashboard["refresh"] = json!("5m");
    state.lock().expect("lock").edit_before_next_save = true;
    let raced = run(&server, "deploy", &[], TOKEN);
    assert_eq!(raced.status.code(), Some(2));
    let said = stderr(&raced);
    assert!(
        said.contains("HTTP 412: The dashboard has been changed by someone else (the dashboard was changed in Grafana after this deploy read it; nothing was overwritten"),
        "{said}"
    );
    assert_eq!(
        state.lock().expect("lock").dashboards["mlslo-ranking"].dashboard["title"],
        json!("edited in the UI meanwhile")
    );

    // A dashboard that is not mlslo's at a generated uid is never replaced.
    let theirs = hand_made("mlslo-ranking", "ranking, by hand", &["ops"]);
    state.lock().expect("lock").put(theirs.clone(), "mlslo");
    let before = saves(&server);
    let blocked = run(&server, "deploy", &[], TOKEN);
    assert_eq!(blocked.status.code(), Some(2));
    assert!(
        stderr(&blocked).contains(
            "dashboard mlslo-ranking (\"ranking, by hand\") exists in Grafana but is not mlslo's"
        ),
        "{}",
        stderr(&blocked)
    );
    assert_eq!(saves(&server), before);
    assert_eq!(
        state.lock().expect("lock").dashboards["mlslo-ranking"].dashboard["title"],
        theirs["title"]
    );
}
