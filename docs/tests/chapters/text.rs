//! The book's structure holds: every include and link resolves, code is never pasted.
//!
//! `mdbook build` logs a broken `{{#include}}` and still exits with success, and it does
//! not check links at all; these tests are what makes a broken include fail CI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn book_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// (file name, text) of every chapter.
fn chapters() -> Vec<(String, String)> {
    let mut chapters: Vec<(String, String)> = std::fs::read_dir(book_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    chapters.sort();
    chapters
}

/// Every `{{#include path[:anchor|:from:to]}}` (and `rustdoc_include`) in `text`, with its line.
fn includes(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let directive = &after[..end];
            for kind in ["include ", "rustdoc_include "] {
                if let Some(target) = directive.strip_prefix(kind) {
                    found.push((number + 1, target.trim().to_owned()));
                }
            }
            rest = &after[end + 2..];
        }
    }
    found
}

/// The text an include would insert, or why it would not.
fn resolve_include(target: &str) -> Result<String, String> {
    let mut parts = target.splitn(2, ':');
    let path = book_dir().join(parts.next().unwrap());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let Some(selector) = parts.next() else {
        return Ok(text);
    };
    if selector
        .split(':')
        .all(|n| n.is_empty() || n.parse::<usize>().is_ok())
    {
        return Err(format!(
            "`{selector}` is a line range, which silently shows other code when {} changes: \
             mark the code with `// ANCHOR: name` / `// ANCHOR_END: name` and include `:name`",
            path.display()
        ));
    }
    let lines: Vec<&str> = text.lines().collect();
    // An anchor is a comment line: `// ANCHOR: name` in code, `<!-- ANCHOR: name -->` in
    // markdown.
    let marker = |line: &str| {
        let line = line.trim();
        let line = line
            .strip_prefix("<!--")
            .map_or(line, |l| l.trim_end_matches("-->"));
        line.trim_start_matches("//").trim().to_owned()
    };
    let start = format!("ANCHOR: {selector}");
    let end = format!("ANCHOR_END: {selector}");
    let begin = lines
        .iter()
        .position(|l| marker(l) == start)
        .ok_or_else(|| format!("no `// {start}` in {}", path.display()))?;
    let finish = lines
        .iter()
        .position(|l| marker(l) == end)
        .ok_or_else(|| format!("no `// {end}` in {}", path.display()))?;
    if finish <= begin + 1 {
        return Err(format!(
            "anchor `{selector}` in {} is empty",
            path.display()
        ));
    }
    Ok(lines[begin + 1..finish].join("\n"))
}

/// Every include points at a file that exists and, if it names one, an anchor that holds code
/// (line ranges are refused: they show other code without a sound when the file changes).
#[test]
fn every_include_resolves() {
    let mut problems = Vec::new();
    let mut count = 0;
    for (chapter, text) in chapters() {
        for (line, target) in includes(&text) {
            count += 1;
            if let Err(why) = resolve_include(&target) {
                problems.push(format!(
                    "{chapter}:{line}: {{{{#include {target}}}}}: {why}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
    assert!(
        count > 0,
        "the book includes no code at all: the include check would pass vacuously"
    );
}

/// Rust code in the book is included from a compiled file, never pasted into the chapter.
#[test]
fn rust_code_is_included_not_pasted() {
    for (chapter, text) in chapters() {
        let mut in_rust = None;
        for (number, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if let Some(start) = in_rust {
                if trimmed.starts_with("```") {
                    in_rust = None;
                } else if !trimmed.is_empty() && !trimmed.starts_with("{{#") {
                    panic!(
                        "{chapter}:{}: the rust block opened at line {start} holds pasted code \
                         (`{trimmed}`); include it from a crate with {{{{#include path:anchor}}}}",
                        number + 1
                    );
                }
            } else if trimmed.starts_with("```rust") {
                in_rust = Some(number + 1);
            }
        }
    }
}

/// mdBook's id for a heading: lower case, spaces to dashes, other punctuation dropped.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut in_code = false;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            ids.insert(heading_id(line.trim_start_matches('#')));
        }
    }
    ids
}

/// Every relative link points at a chapter (and heading), or a file, that exists.
#[test]
fn every_link_resolves() {
    let chapters = chapters();
    let mut problems = Vec::new();
    for (chapter, text) in &chapters {
        let mut in_code = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            let mut rest = line;
            while let Some(at) = rest.find("](") {
                let after = &rest[at + 2..];
                let Some(end) = after.find(')') else { break };
                let target = &after[..end];
                rest = &after[end..];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, fragment) = match target.split_once('#') {
                    Some((file, fragment)) => (file, Some(fragment)),
                    None => (target, None),
                };
                let file = if file.is_empty() {
                    chapter.as_str()
                } else {
                    file
                };
                if !file.ends_with(".md") {
                    // A picture or another file the book ships: it must exist.
                    if !book_dir().join(file).is_file() {
                        problems.push(format!("{chapter}:{}: no file `{file}`", number + 1));
                    }
                    continue;
                }
                let Some((_, linked)) = chapters.iter().find(|(name, _)| name == file) else {
                    problems.push(format!("{chapter}:{}: no chapter `{file}`", number + 1));
                    continue;
                };
                if let Some(fragment) = fragment
                    && !heading_ids(linked).contains(fragment)
                {
                    problems.push(format!(
                        "{chapter}:{}: no heading `#{fragment}` in {file}",
                        number + 1
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// Every chapter is in the table of contents, and every entry there exists.
#[test]
fn summary_lists_every_chapter() {
    let summary = std::fs::read_to_string(book_dir().join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = summary
        .lines()
        .filter_map(|line| Some(line.split_once("](")?.1.split_once(')')?.0.to_owned()))
        .collect();
    let present: BTreeSet<String> = chapters()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name != "SUMMARY.md")
        .collect();
    assert_eq!(listed, present);
}

/// Every test the appendix names exists: `crate/path.rs::name` (or `::name`, meaning the
/// file named just before it in the same cell) is a file with a `fn name` in it.
#[test]
fn appendix_names_only_tests_that_exist() {
    let appendix = std::fs::read_to_string(book_dir().join("claims.md")).unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    let mut named = 0;
    for line in appendix.lines().filter(|l| l.starts_with('|')) {
        let Some(cell) = line.trim_end_matches('|').rsplit('|').next() else {
            continue;
        };
        let mut file = String::new();
        for reference in cell.split('`').skip(1).step_by(2) {
            let Some((path, test)) = reference.rsplit_once("::") else {
                continue;
            };
            if !path.is_empty() {
                file = path.to_owned();
            }
            named += 1;
            let text = std::fs::read_to_string(workspace.join(&file)).unwrap_or_default();
            if !text.contains(&format!("fn {test}(")) {
                problems.push(format!("{file}::{test}"));
            }
        }
    }
    assert!(
        named > 20,
        "only {named} tests named: is the appendix's test column still last?"
    );
    assert!(
        problems.is_empty(),
        "the appendix names tests that do not exist:\n{}",
        problems.join("\n")
    );
}

/// The markers in `before-you-start.md` around its generated requirements table.
const TABLE_BEGIN: &str = "<!-- BEGIN requirements_table";
const TABLE_END: &str = "<!-- END requirements_table -->";

/// "Before you start" shows exactly the capabilities the harness probes, as
/// `harness::requirements_table()` writes them, so the book cannot drift from the probe.
/// After a change to the list, `UPDATE_REQUIREMENTS=1 cargo test -p docs --test chapters text::` writes
/// the new table between the chapter's markers; review it like code.
#[test]
fn before_you_start_shows_the_probes_requirements_table() {
    let path = book_dir().join("before-you-start.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let begin = text
        .find(TABLE_BEGIN)
        .and_then(|at| Some(at + text[at..].find('\n')? + 1))
        .unwrap_or_else(|| panic!("{} has no `{TABLE_BEGIN} ... -->` line", path.display()));
    let end = text[begin..]
        .find(TABLE_END)
        .map(|at| begin + at)
        .unwrap_or_else(|| panic!("{} has no `{TABLE_END}` after the table", path.display()));
    let table = harness::requirements_table();
    if std::env::var_os("UPDATE_REQUIREMENTS").is_some() {
        let rewritten = format!("{}\n{table}\n{}", &text[..begin], &text[end..]);
        if rewritten != text {
            // Written aside and renamed over the chapter, so that the other tests of this
            // binary, which read it at the same time, see the old file or the new one whole.
            let aside = path.with_extension("md.new");
            std::fs::write(&aside, rewritten).unwrap();
            std::fs::rename(&aside, &path).unwrap();
        }
        return;
    }
    assert!(
        text[begin..end].trim() == table.trim(),
        "the table in {} is not harness::requirements_table(); run UPDATE_REQUIREMENTS=1 cargo \
         test -p docs --test chapters text:: and review the change",
        path.display()
    );
}
