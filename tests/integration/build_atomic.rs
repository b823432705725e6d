//! `mlslo build` replaces its output whole or not at all: builds killed with SIGKILL at
//! random points leave the output folder byte for byte the old build or the new one, and
//! the next build removes what they left and succeeds; two builds at once into one
//! folder never end mixed (the second waits for the first and says so); a user's files
//! in the output folder survive every build. The number of killed and concurrent runs is
//! small by default and raised with `MLSLO_CRASH_RUNS`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::support::{mlslo_command, outcome, scratch, Lcg};

/// Killed builds in the default suite; each is followed by a complete build.
const DEFAULT_KILLED_RUNS: usize = 8;
/// Pairs of concurrent builds in the default suite.
const DEFAULT_CONCURRENT_RUNS: usize = 4;
/// Services of the generated input, five objectives each: 3 files per service.
const SERVICES: usize = 40;

/// A build killed at any point leaves the old output or the new one, byte for byte, and
/// the next build cleans up after it (saying so) and gives the new output.
#[test]
fn a_killed_build_leaves_the_old_output_or_the_new_one_never_a_mix() {
    let folder = scratch("crash");
    let project = Project::new(&folder);
    let runs = runs_from_environment(DEFAULT_KILLED_RUNS);
    let started = Instant::now();
    project.build_to_completion(Input::B);
    let build_time = started.elapsed();
    let mut current = Input::B;
    let mut random = Lcg(17);
    let (mut ended_old, mut ended_new, mut left_something) = (0, 0, 0);
    for run in 0..runs {
        let next = current.other();
        // Half of the kills anywhere in the build, half in its last third, where the
        // output is being replaced.
        let permille = if run % 2 == 0 {
            random.below(1200)
        } else {
            666 + random.below(500)
        };
        let delay = build_time.mul_f64(permille as f64 / 1000.0);
        let mut child = project
            .build_command(next)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mlslo runs");
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL is sent");
        child.wait().expect("the killed build is reaped");
        let tree = tree_contents(&project.output);
        if &tree == project.reference(current) {
            ended_old += 1;
        } else if &tree == project.reference(next) {
            ended_new += 1;
        } else {
            panic!(
                "run {run}: killed after {delay:?}, the output is neither the old build nor the new one:\n{}",
                describe_difference(&tree, project.reference(current), project.reference(next))
            );
        }
        let leftovers = project.leftovers();
        if !leftovers.is_empty() {
            left_something += 1;
        }
        // A build killed between creating its lock file and writing itself in leaves
        // an empty one, with no owner to name.
        let lock_had_an_owner = leftovers.iter().any(|path| {
            path.extension()
                .is_some_and(|extension| extension == "lock")
                && std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > 0)
        });
        let stderr = project.build_to_completion(next);
        if lock_had_an_owner {
            assert!(stderr.contains("took over the lock"), "{stderr}");
        }
        for leftover in &leftovers {
            let name = leftover.file_name().expect("a name").to_string_lossy();
            if !name.ends_with(".lock") {
                assert!(
                    stderr.contains(&format!("removed `{}`", leftover.display())),
                    "run {run}: {name} left, and the next build said:\n{stderr}"
                );
            }
        }
        assert_eq!(&tree_contents(&project.output), project.reference(next));
        assert_eq!(project.leftovers(), Vec::<PathBuf>::new(), "run {run}");
        current = next;
    }
    eprintln!(
        "{runs} killed builds (one full build took {build_time:?}): {ended_old} left the old output, \
         {ended_new} the new one, {left_something} left a staging folder or a lock to clean up"
    );
    assert!(
        left_something > 0,
        "no kill landed inside a build: the kills prove nothing"
    );
}

/// Two builds at once into one folder: the second waits for the first (and says whose
/// lock it waits for), both succeed, and the output is whole: the second one's build.
#[test]
fn two_builds_at_once_into_one_folder_never_end_mixed() {
    let folder = scratch("concurrent");
    let project = Project::new(&folder);
    let runs = runs_from_environment(DEFAULT_CONCURRENT_RUNS);
    let mut waited = 0;
    for run in 0..runs {
        let (first, second) = if run % 2 == 0 {
            (Input::A, Input::B)
        } else {
            (Input::B, Input::A)
        };
        let children = [first, second].map(|input| {
            project
                .build_command(input)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("mlslo runs")
        });
        let [first_result, second_result] =
            children.map(|child| child.wait_with_output().expect("the build ends"));
        let (first_status, _, first_stderr) = outcome(&first_result);
        let (second_status, _, second_stderr) = outcome(&second_result);
        assert_eq!(
            (first_status, second_status),
            (0, 0),
            "run {run}:\n{first_stderr}\n{second_stderr}"
        );
        let tree = tree_contents(&project.output);
        let waiting = "waiting for another build into";
        let last = match (
            first_stderr.contains(waiting),
            second_stderr.contains(waiting),
        ) {
            (true, false) => Some(first),
            (false, true) => Some(second),
            (false, false) => None,
            (true, true) => panic!("run {run}: both waited:\n{first_stderr}\n{second_stderr}"),
        };
        if let Some(last) = last {
            waited += 1;
            let message = if last == first {
                &first_stderr
            } else {
                &second_stderr
            };
            // The holder is named once it has written itself into the lock file; a
            // build that finds the lock taken before then says its holder is starting.
            assert!(
                message.contains("pid ") || message.contains("(starting;"),
                "{message}"
            );
            assert_eq!(&tree, project.reference(last), "run {run}");
        } else {
            assert!(
                &tree == project.reference(first) || &tree == project.reference(second),
                "run {run}: the output is mixed"
            );
        }
        assert_eq!(project.leftovers(), Vec::<PathBuf>::new(), "run {run}");
    }
    eprintln!("{runs} pairs of concurrent builds, {waited} with one waiting for the other");
    assert!(waited > 0, "no two builds ever overlapped");
}

/// A staging folder and a lock left by builds that were killed (here made by hand, as a
/// SIGKILL leaves them) are removed by the next build, which names each.
#[test]
fn the_next_build_removes_what_a_killed_build_left_and_says_so() {
    let folder = scratch("leftovers");
    let project = Project::new(&folder);
    let staging = folder.join(".generated.mlslo-staging-999999");
    std::fs::create_dir_all(staging.join("prometheus")).expect("staging");
    std::fs::write(staging.join("prometheus/x.rules.yml"), "groups: []\n").expect("file");
    std::fs::write(
        folder.join(".generated.mlslo-build.lock"),
        "999999 1796621400\n",
    )
    .expect("lock");
    let stderr = project.build_to_completion(Input::A);
    assert!(
        stderr.contains(
            "took over the lock of a build into `generated` that was stopped (pid 999999, started 2026-12-07 05:30:00 UTC)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("removed `{}`", staging.display())),
        "{stderr}"
    );
    assert_eq!(project.leftovers(), Vec::<PathBuf>::new());
    assert_eq!(&tree_contents(&project.output), project.reference(Input::A));
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Input {
    A,
    B,
}

impl Input {
    fn other(self) -> Input {
        match self {
            Input::A => Input::B,
            Input::B => Input::A,
        }
    }
}

/// A project folder with two inputs and one output folder, and the output of each input
/// built to completion (the references every state is compared with).
struct Project {
    root: PathBuf,
    output: PathBuf,
    references: BTreeMap<&'static str, Vec<(String, Vec<u8>)>>,
}

impl Project {
    /// Writes the inputs, builds each once and keeps its output as its reference. The
    /// output folder holds a user's README and a foreign file in an owned folder, which
    /// every build must keep.
    fn new(root: &Path) -> Project {
        std::fs::create_dir_all(root.join("generated/prometheus")).expect("output folder");
        std::fs::write(
            root.join("generated/README.md"),
            "Committed build output.\n",
        )
        .expect("README");
        std::fs::write(root.join("generated/prometheus/mine.yml"), "groups: []\n")
            .expect("foreign file");
        write_input(&root.join("rules-a"), SERVICES, "99.9%");
        write_input(&root.join("rules-b"), SERVICES + 5, "99.5%");
        let mut project = Project {
            root: root.to_path_buf(),
            output: root.join("generated"),
            references: BTreeMap::new(),
        };
        for input in [Input::A, Input::B] {
            project.build_to_completion(input);
            let tree = tree_contents(&project.output);
            assert!(tree.iter().any(|(path, _)| path == "README.md"));
            assert!(tree.iter().any(|(path, _)| path == "prometheus/mine.yml"));
            project.references.insert(input.folder(), tree);
        }
        assert_ne!(
            project.references[Input::A.folder()],
            project.references[Input::B.folder()]
        );
        project
    }

    fn reference(&self, input: Input) -> &Vec<(String, Vec<u8>)> {
        &self.references[input.folder()]
    }

    fn build_command(&self, input: Input) -> Command {
        let mut command = mlslo_command(&self.root);
        command.args(["build", input.folder(), "-o", "generated"]);
        command
    }

    /// Runs a build to its end; it must succeed. Returns its stderr.
    fn build_to_completion(&self, input: Input) -> String {
        let (status, _, stderr) = outcome(&self.build_command(input).output().expect("mlslo"));
        assert_eq!(status, 0, "{stderr}");
        stderr
    }

    /// What builds leave beside the output: staging folders, old outputs, locks.
    fn leftovers(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&self.root)
            .expect("project folder")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(".generated."))
            })
            .collect();
        found.sort();
        found
    }
}

impl Input {
    fn folder(self) -> &'static str {
        match self {
            Input::A => "rules-a",
            Input::B => "rules-b",
        }
    }
}

/// `services` services of five availability objectives each, one file per service.
fn write_input(folder: &Path, services: usize, objective: &str) {
    std::fs::create_dir_all(folder).expect("input folder");
    for service in 0..services {
        let mut text = format!(
            "service \"svc{service:03}\" {{\n  team = \"team{}\"\n",
            service % 7
        );
        for objective_index in 0..5 {
            text.push_str(&format!(
                "  availability \"requests-{objective_index}\" {{\n    \
                 errors    = http_requests_total{{job=\"svc{service:03}\", route=\"r{objective_index}\", code=~\"5..\"}}\n    \
                 total     = http_requests_total{{job=\"svc{service:03}\", route=\"r{objective_index}\"}}\n    \
                 objective = {objective}\n    window    = 30d\n  }}\n"
            ));
        }
        text.push_str("}\n");
        std::fs::write(folder.join(format!("svc{service:03}.slo")), text).expect("input file");
    }
}

/// Every file under `folder` (relative path, bytes) in path order; folders are listed
/// through their files, so an empty owned folder and a missing one compare equal.
fn tree_contents(folder: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, folder: &Path, found: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.filter_map(|entry| entry.ok()) {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .to_string_lossy()
                    .into_owned();
                found.push((relative, std::fs::read(&path).expect("a file can be read")));
            }
        }
    }
    let mut found = Vec::new();
    walk(folder, folder, &mut found);
    found.sort();
    found
}

/// The paths in which `tree` differs from each reference, for a failure message.
fn describe_difference(
    tree: &[(String, Vec<u8>)],
    old: &[(String, Vec<u8>)],
    new: &[(String, Vec<u8>)],
) -> String {
    let differing = |reference: &[(String, Vec<u8>)]| {
        let reference: BTreeMap<&String, &Vec<u8>> = reference
            .iter()
            .map(|(path, bytes)| (path, bytes))
            .collect();
        let found: BTreeMap<&String, &Vec<u8>> =
            tree.iter().map(|(path, bytes)| (path, bytes)).collect();
        let mut paths: Vec<String> = reference
            .keys()
            .chain(found.keys())
            .filter(|path| reference.get(*path) != found.get(*path))
            .map(|path| (*path).clone())
            .collect();
        paths.sort();
        paths.dedup();
        paths.truncate(10);
        paths
    };
    format!(
        "differs from the old build in {:?}\ndiffers from the new build in {:?}",
        differing(old),
        differing(new)
    )
}

/// `MLSLO_CRASH_RUNS` raises the number of runs (for a long hunt); the default keeps
/// the suite quick.
fn runs_from_environment(default: usize) -> usize {
    std::env::var("MLSLO_CRASH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(default)
}
