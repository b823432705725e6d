//! Unified line diffs (`@@ -a,b +c,d @@` hunks) of two texts, for `mlslo diff`.
//!
//! Invariants: the longest common subsequence of lines decides what is kept, so the output
//! is minimal and deterministic; texts are small (one group, one watch), so the quadratic
//! table is fine.

/// Hunks of the line diff of `before` and `after`, with `context` unchanged lines around each
/// change; every line ends with a newline. Empty when the texts are equal.
pub fn unified(before: &str, after: &str, context: usize) -> String {
    unified_with_headings(before, after, context, |_| false)
}

/// Like [`unified`]; each hunk header also shows the last line before the hunk for which
/// `is_heading` holds (as `git diff` shows the enclosing function), such as the rule a
/// changed line belongs to.
pub fn unified_with_headings(
    before: &str,
    after: &str,
    context: usize,
    is_heading: impl Fn(&str) -> bool,
) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    // lcs[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut lcs = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Edit script: (tag, old index, new index).
    let mut script: Vec<(char, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            script.push((' ', i, j));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // Removals before additions, as diff(1) prints them.
            script.push(('-', i, j));
            i += 1;
        } else {
            script.push(('+', i, j));
            j += 1;
        }
    }
    let changed: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, (tag, _, _))| *tag != ' ')
        .map(|(index, _)| index)
        .collect();
    let mut out = String::new();
    let mut start_of_change = 0;
    while start_of_change < changed.len() {
        // Grow the hunk while the next change is within 2 * context lines.
        let mut end_of_change = start_of_change;
        while end_of_change + 1 < changed.len()
            && changed[end_of_change + 1] - changed[end_of_change] <= 2 * context + 1
        {
            end_of_change += 1;
        }
        let first = changed[start_of_change].saturating_sub(context);
        let last = (changed[end_of_change] + context).min(script.len() - 1);
        let hunk = &script[first..=last];
        let old_count = hunk.iter().filter(|(tag, _, _)| *tag != '+').count();
        let new_count = hunk.iter().filter(|(tag, _, _)| *tag != '-').count();
        let (_, old_start, new_start) = hunk[0];
        let position = |start: usize, count: usize| {
            if count == 0 {
                format!("{start},0")
            } else {
                format!("{},{count}", start + 1)
            }
        };
        let heading = old[..old_start.min(old.len())]
            .iter()
            .rev()
            .find(|line| is_heading(line))
            .map(|line| format!(" {line}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "@@ -{} +{} @@{heading}\n",
            position(old_start, old_count),
            position(new_start, new_count)
        ));
        for &(tag, old_index, new_index) in hunk {
            let line = if tag == '+' {
                new[new_index]
            } else {
                old[old_index]
            };
            out.push(tag);
            out.push_str(line);
            out.push('\n');
        }
        start_of_change = end_of_change + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_hunks() {
        assert_eq!(unified("a\nb\n", "a\nb\n", 3), "");
    }

    #[test]
    fn one_changed_line_shows_with_its_context() {
        let before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified(before, after, 2),
            "@@ -3,5 +3,5 @@\n 3\n 4\n-5\n+five\n 6\n 7\n"
        );
    }

    #[test]
    fn hunk_headers_name_the_enclosing_heading() {
        let before = "- alert: A\n  x: 1\n  y: 2\n  z: 3\n  w: 4\n- alert: B\n  x: 1\n";
        let after = before.replace("  w: 4", "  w: 5");
        assert_eq!(
            unified_with_headings(before, &after, 1, |line| line.starts_with("- ")),
            "@@ -4,3 +4,3 @@ - alert: A\n   z: 3\n-  w: 4\n+  w: 5\n - alert: B\n"
        );
    }

    #[test]
    fn additions_to_nothing_and_far_apart_changes_make_separate_hunks() {
        assert_eq!(unified("", "a\nb\n", 3), "@@ -0,0 +1,2 @@\n+a\n+b\n");
        let before: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let after: String = (1..=20)
            .map(|n| match n {
                2 => "two\n".to_string(),
                19 => "nineteen\n".to_string(),
                n => format!("{n}\n"),
            })
            .collect();
        let diff = unified(&before, &after, 1);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-19\n+nineteen\n"), "{diff}");
    }
}
