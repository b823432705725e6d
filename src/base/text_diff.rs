//! Unified line diffs of two texts, as GNU `diff -u` writes them: the one diff of
//! `build --check` (with file headers) and of `mlslo diff` (hunks under each change,
//! headed by the rule they are in).
//!
//! Invariants:
//! - Lines are compared with their line ends, so a last line without a newline differs
//!   from the same line with one and is followed by `\ No newline at end of file`.
//! - Which lines are kept is decided by Myers' algorithm from the `similar` crate, whose
//!   edit scripts are minimal as GNU diff's are; runs of changed lines that could slide
//!   over equal lines are then placed where GNU diff places them. Where equally short
//!   scripts keep different lines, GNU's choice can still differ (a few in a hundred
//!   random edits over a handful of distinct lines; `tests/integration/text_diff.rs` compares).
//!   Equal texts give no output at all.
//! - Hunks carry `context` unchanged lines on each side and merge when at most
//!   `2 * context` unchanged lines separate two changes; a range of one line is written
//!   `-n`, an empty one `-n,0` with `n` the line before it, as `diff -u` writes them.
//! - Deterministic and bounded: Myers' algorithm takes (old lines + new lines) × edits
//!   steps, so two large, mostly different texts would take seconds (20,000 distinct
//!   lines each: 15 s). Beyond [`MAX_DIFF_STEPS`] the lines between the common start and
//!   the common end are shown as removed, then added, instead (no clock is consulted).

use std::collections::HashMap;
use std::fmt::Write as _;

use similar::algorithms::{myers, Capture};
use similar::{group_diff_ops, DiffOp, DiffTag};

/// Upper bound of the steps Myers' algorithm may take, as (old lines + new lines) ×
/// removed and added lines, counting only the lines between the common start and end;
/// about a fifth of a second.
pub const MAX_DIFF_STEPS: usize = 20_000_000;

/// The unchanged lines `diff -u` shows on each side of a change.
pub const DEFAULT_CONTEXT: usize = 3;

/// `--- old_name` / `+++ new_name` and the hunks from `old` to `new`, with
/// [`DEFAULT_CONTEXT`] lines of context; empty when the texts are equal.
pub fn unified_diff(old_name: &str, new_name: &str, old: &str, new: &str) -> String {
    let hunks = unified_hunks(old, new, DEFAULT_CONTEXT, |_| false);
    if hunks.is_empty() {
        return hunks;
    }
    format!("--- {old_name}\n+++ {new_name}\n{hunks}")
}

/// The hunks from `old` to `new` with `context` unchanged lines around each change.
/// Each hunk header also names the last line before the hunk for which `is_heading`
/// holds (given without its line end), as `diff -F` and `git diff` name the enclosing
/// function: here the rule a changed line belongs to. Unlike `diff -F` the heading is
/// shown whole, indentation included.
pub fn unified_hunks(
    old: &str,
    new: &str,
    context: usize,
    is_heading: impl Fn(&str) -> bool,
) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let mut out = String::new();
    for hunk in group_diff_ops(line_edits(&old_lines, &new_lines), context) {
        let (Some(first), Some(last)) = (hunk.first(), hunk.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let heading = old_lines[..old_range.start]
            .iter()
            .map(|line| without_line_end(line))
            .rfind(|line| is_heading(line))
            .map(|line| format!(" {line}"))
            .unwrap_or_default();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "@@ -{} +{} @@{heading}",
            hunk_range(old_range.start, old_range.len()),
            hunk_range(new_range.start, new_range.len())
        );
        for op in &hunk {
            let (tag, old_part, new_part) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                push_lines(&mut out, ' ', &old_lines[old_part]);
                continue;
            }
            push_lines(&mut out, '-', &old_lines[old_part]);
            push_lines(&mut out, '+', &new_lines[new_part]);
        }
    }
    out
}

/// The edit script from `old` to `new`: Myers' when it fits [`MAX_DIFF_STEPS`], its
/// changes placed as GNU diff places them; else the common start and end kept and
/// everything between removed, then added.
fn line_edits<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<DiffOp> {
    // Lines as numbers: equal lines get equal numbers, so comparing is cheap.
    let mut numbers: HashMap<&'a str, u32> = HashMap::new();
    let mut number = |line: &'a str| {
        let next = numbers.len() as u32;
        *numbers.entry(line).or_insert(next)
    };
    let old: Vec<u32> = old.iter().map(|line| number(line)).collect();
    let new: Vec<u32> = new.iter().map(|line| number(line)).collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_middle, new_middle) = (prefix..old.len() - suffix, prefix..new.len() - suffix);
    let mut old_changed = vec![false; old.len()];
    let mut new_changed = vec![false; new.len()];
    let edit_budget = MAX_DIFF_STEPS / (old_middle.len() + new_middle.len()).max(1);
    if !edit_distance_at_most(
        &old[old_middle.clone()],
        &new[new_middle.clone()],
        edit_budget,
    ) {
        old_changed[old_middle].fill(true);
        new_changed[new_middle].fill(true);
        return edits_from_changed_lines(&old_changed, &new_changed);
    }
    let mut capture = Capture::new();
    // Capturing cannot fail: the hook's error type is `Infallible`.
    let _ = myers::diff(&mut capture, &old, old_middle, &new, new_middle);
    for op in capture.ops() {
        if op.tag() != DiffTag::Equal {
            old_changed[op.old_range()].fill(true);
            new_changed[op.new_range()].fill(true);
        }
    }
    place_changes_as_gnu_diff(&old, &mut old_changed, &new_changed);
    place_changes_as_gnu_diff(&new, &mut new_changed, &old_changed);
    edits_from_changed_lines(&old_changed, &new_changed)
}

/// Moves each run of changed lines of one text where GNU diff puts it, among the places
/// it can slide to over equal lines (a run `b c` after a `c` may also be `c b`): joined
/// with the runs before and after it where sliding reaches them, then as far down as it
/// goes, unless a place on the way lines it up with changed lines of the other text
/// (`other_changed`), so that a replaced line shows as `-old` `+new`: then the last
/// such place. Equal lines stay paired in order, so the k-th unchanged line of one text
/// is always the k-th of the other.
fn place_changes_as_gnu_diff(lines: &[u32], changed: &mut [bool], other_changed: &[bool]) {
    let other_unchanged: Vec<usize> = (0..other_changed.len())
        .filter(|&index| !other_changed[index])
        .collect();
    // Whether a run with `kept_before` unchanged lines before it faces changed lines of
    // the other text: lines between the partners of its unchanged neighbours.
    let faces_changes = |kept_before: usize| {
        let after = other_unchanged
            .get(kept_before)
            .map_or(other_changed.len(), |&index| index);
        let before = match kept_before {
            0 => 0,
            _ => other_unchanged[kept_before - 1] + 1,
        };
        after > before
    };
    let (mut start, mut kept_before) = (0, 0);
    loop {
        while start < lines.len() && !changed[start] {
            start += 1;
            kept_before += 1;
        }
        if start == lines.len() {
            return;
        }
        let mut end = start;
        while end < lines.len() && changed[end] {
            end += 1;
        }
        loop {
            let run_length = end - start;
            // Up while the line above equals the run's last line, joining runs above.
            while start > 0 && lines[start - 1] == lines[end - 1] {
                start -= 1;
                end -= 1;
                kept_before -= 1;
                changed[start] = true;
                changed[end] = false;
                while start > 0 && changed[start - 1] {
                    start -= 1;
                }
            }
            let mut facing_start = faces_changes(kept_before).then_some(start);
            // Down while the line below equals the run's first line, joining runs below.
            while end < lines.len() && lines[start] == lines[end] {
                changed[start] = false;
                changed[end] = true;
                start += 1;
                end += 1;
                kept_before += 1;
                while end < lines.len() && changed[end] {
                    end += 1;
                }
                if faces_changes(kept_before) {
                    facing_start = Some(start);
                }
            }
            if end - start == run_length {
                // Nothing was joined: the run's places are known; back up to the last
                // one facing changes, if any.
                let target = facing_start.unwrap_or(start);
                while start > target {
                    start -= 1;
                    end -= 1;
                    kept_before -= 1;
                    changed[start] = true;
                    changed[end] = false;
                }
                break;
            }
        }
        start = end;
    }
}

/// The edit script of texts whose changed lines are marked: at each place removed
/// lines first, then added ones, as `diff -u` prints them.
fn edits_from_changed_lines(old_changed: &[bool], new_changed: &[bool]) -> Vec<DiffOp> {
    let (mut old_index, mut new_index) = (0, 0);
    let mut edits = Vec::new();
    while old_index < old_changed.len() || new_index < new_changed.len() {
        let removed_from = old_index;
        while old_index < old_changed.len() && old_changed[old_index] {
            old_index += 1;
        }
        if old_index > removed_from {
            edits.push(DiffOp::Delete {
                old_index: removed_from,
                old_len: old_index - removed_from,
                new_index,
            });
        }
        let added_from = new_index;
        while new_index < new_changed.len() && new_changed[new_index] {
            new_index += 1;
        }
        if new_index > added_from {
            edits.push(DiffOp::Insert {
                old_index,
                new_index: added_from,
                new_len: new_index - added_from,
            });
        }
        let (kept_from_old, kept_from_new) = (old_index, new_index);
        while old_index < old_changed.len()
            && new_index < new_changed.len()
            && !old_changed[old_index]
            && !new_changed[new_index]
        {
            old_index += 1;
            new_index += 1;
        }
        if old_index > kept_from_old {
            edits.push(DiffOp::Equal {
                old_index: kept_from_old,
                new_index: kept_from_new,
                len: old_index - kept_from_old,
            });
        }
    }
    edits
}

/// Whether `old` becomes `new` with at most `limit` removed and added lines: the greedy
/// forward pass of Myers' algorithm, stopped after `limit` edits, so it takes at most
/// (old lines + new lines) × `limit` steps.
fn edit_distance_at_most(old: &[u32], new: &[u32], limit: usize) -> bool {
    let (old_len, new_len) = (old.len() as isize, new.len() as isize);
    let limit = limit.min(old.len() + new.len()) as isize;
    // furthest[k + offset]: the furthest old index reached on diagonal k = x - y.
    let offset = limit + 1;
    let mut furthest = vec![0isize; 2 * limit as usize + 3];
    for edits in 0..=limit {
        for diagonal in (-edits..=edits).step_by(2) {
            let slot = (diagonal + offset) as usize;
            let mut x = if diagonal == -edits
                || (diagonal != edits && furthest[slot - 1] < furthest[slot + 1])
            {
                furthest[slot + 1]
            } else {
                furthest[slot - 1] + 1
            };
            let mut y = x - diagonal;
            while x < old_len && y < new_len && old[x as usize] == new[y as usize] {
                x += 1;
                y += 1;
            }
            furthest[slot] = x;
            if x >= old_len && y >= new_len {
                return true;
            }
        }
    }
    false
}

/// `start` (0-based) and `len` as a hunk header writes a range.
fn hunk_range(start: usize, len: usize) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        _ => format!("{},{len}", start + 1),
    }
}

fn push_lines(out: &mut String, sign: char, lines: &[&str]) {
    for line in lines {
        out.push(sign);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

fn without_line_end(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(count: usize, changed: &[(usize, &str)]) -> String {
        (1..=count)
            .map(|n| match changed.iter().find(|(at, _)| *at == n) {
                Some((_, text)) => format!("{text}\n"),
                None => format!("{n}\n"),
            })
            .collect()
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified_diff("a/x", "b/x", "a\nb\n", "a\nb\n"), "");
        assert_eq!(unified_hunks("", "", 3, |_| false), "");
    }

    #[test]
    fn a_changed_line_gives_one_hunk_with_its_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(
            unified_diff("a/x", "b/x", old, new),
            "--- a/x\n+++ b/x\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
        assert_eq!(
            unified_hunks(&numbered(9, &[]), &numbered(9, &[(5, "five")]), 2, |_| {
                false
            }),
            "@@ -3,5 +3,5 @@\n 3\n 4\n-5\n+five\n 6\n 7\n"
        );
    }

    #[test]
    fn additions_to_and_removals_from_nothing_start_at_line_zero() {
        assert_eq!(
            unified_diff("/dev/null", "b/x", "", "a\nb\n"),
            "--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        );
        assert_eq!(
            unified_diff("a/x", "/dev/null", "a\n", ""),
            "--- a/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"
        );
    }

    #[test]
    fn one_line_ranges_have_no_count_and_empty_ones_name_the_line_before() {
        assert_eq!(
            unified_hunks("a\nb\n", "a\nB\n", 0, |_| false),
            "@@ -2 +2 @@\n-b\n+B\n"
        );
        assert_eq!(
            unified_hunks("a\nc\n", "a\nb\nc\n", 0, |_| false),
            "@@ -1,0 +2 @@\n+b\n"
        );
    }

    #[test]
    fn hunks_merge_across_at_most_twice_the_context() {
        let old = numbered(20, &[]);
        // Changes at 5 and 12: six unchanged lines between them, one hunk.
        let joined = unified_hunks(&old, &numbered(20, &[(5, "x"), (12, "y")]), 3, |_| false);
        assert_eq!(joined.matches("@@ -").count(), 1, "{joined}");
        assert!(joined.starts_with("@@ -2,14 +2,14 @@\n"), "{joined}");
        // Changes at 5 and 13: seven between them, two hunks.
        let split = unified_hunks(&old, &numbered(20, &[(5, "x"), (13, "y")]), 3, |_| false);
        assert_eq!(split.matches("@@ -").count(), 2, "{split}");
        assert!(split.contains("@@ -10,7 +10,7 @@\n"), "{split}");
    }

    #[test]
    fn a_missing_last_newline_is_a_change_and_is_marked() {
        assert_eq!(
            unified_hunks("a\nb", "a\nb\n", 3, |_| false),
            "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
        );
    }

    #[test]
    fn hunk_headers_name_the_enclosing_heading() {
        let before = "- alert: A\n  x: 1\n  y: 2\n  z: 3\n  w: 4\n- alert: B\n  x: 1\n";
        let after = before.replace("  w: 4", "  w: 5");
        assert_eq!(
            unified_hunks(before, &after, 1, |line| line.starts_with("- ")),
            "@@ -4,3 +4,3 @@ - alert: A\n   z: 3\n-  w: 4\n+  w: 5\n - alert: B\n"
        );
    }

    #[test]
    fn large_mostly_different_texts_are_replaced_whole_between_common_ends() {
        let lines =
            |prefix: &str| -> String { (0..3_000).map(|n| format!("{prefix} {n}\n")).collect() };
        let old = format!("head\n{}tail\n", lines("old"));
        let new = format!("head\n{}tail\n", lines("new"));
        // 6,000 lines between the common ends, all of them edits: beyond the budget.
        const { assert!(6_000 * 6_000 > MAX_DIFF_STEPS) };
        let diff = unified_hunks(&old, &new, 1, |_| false);
        assert!(
            diff.starts_with("@@ -1,3002 +1,3002 @@\n head\n-old 0\n"),
            "{}",
            &diff[..60]
        );
        assert!(diff.contains("-old 2999\n+new 0\n"));
        assert!(diff.ends_with("+new 2999\n tail\n"));
    }

    #[test]
    fn the_edit_distance_check_stops_at_its_limit() {
        let old = [1, 2, 3, 4];
        let new = [1, 3, 4, 5];
        assert!(edit_distance_at_most(&old, &new, 2));
        assert!(!edit_distance_at_most(&old, &new, 1));
        assert!(edit_distance_at_most(&[], &[], 0));
        assert!(edit_distance_at_most(&[1, 2], &[], 2));
        assert!(!edit_distance_at_most(&[1, 2], &[], 1));
    }
}
