//! Elasticsearch Watcher watches for `logs` objectives.

use crate::emit::alertmanager::AlertmanagerOptions;
use crate::ir::Program;

pub fn files(_program: &Program, _options: &AlertmanagerOptions) -> Vec<(String, String)> {
    Vec::new()
}
