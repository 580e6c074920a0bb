//! Reading the book's `console` blocks as steps of a walkthrough.
//!
//! A chapter is a sequence of *scenarios*; each scenario names the lab the reader has open
//! (`cargo lab --sandbox`, `cargo lab a b`, ...) and is a sequence of *steps*, one per
//! `console` block. The markdown conventions:
//!
//! - `<!-- walkthrough: sandbox -->` or `<!-- walkthrough: lan a b c -->` starts a scenario
//!   in that lab. The prose before its first block must name the command that opens it
//!   ([`Topology::lab_command`]) when the lab differs from the previous scenario's. Blocks
//!   before any such comment run in the reader's own shell at the workspace root
//!   ([`Topology::Workspace`]) and may only run `cargo`: `cargo run -q -p PACKAGE --bin NAME`
//!   for a program, `cargo run -q -p PACKAGE [--features LIST] --example NAME` for an example
//!   (the suite runs the program cargo would build, see [`cargo_run`]).
//! - A block opens with ```` ```console ```` plus optional comma-separated
//!   attributes: `terminal=2` (runs in the background, started before the next
//!   foreground step and stopped with Ctrl-C at the end of the scenario),
//!   `host=b` (which LAN host runs it), `status=1` (the exit status the last
//!   command of the block must have; default 0).
//! - Inside a block, a line starting with `$ ` is a command; the lines up to the
//!   next command are its expected output (stdout and stderr together). In the
//!   expected output `[..]` stands for any text within a line and a line that is
//!   exactly `...` for any number of lines. In a lab, programs are typed by name
//!   (`receive --verbose`): the lab puts the workspace's programs on `PATH`.
//!
//! This module only parses and matches; `tests/chapters/walkthroughs.rs` runs the steps in a
//! `lab::Lab`, through the same door as `cargo lab exec`.

use std::fmt;

/// The lab a scenario runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// The reader's own shell at the workspace root, before any lab: only `cargo` commands
    /// (the suite still runs them in a sandbox).
    Workspace,
    /// A one-host lab (`cargo lab --sandbox`, the harness's `Sandbox`).
    Sandbox,
    /// Hosts on one bridged segment, by name, in order (`cargo lab a b`, the harness's `Lan`).
    Lan(Vec<String>),
}

impl Topology {
    /// What the reader types to open this lab (`None` for the workspace shell).
    pub fn lab_command(&self) -> Option<String> {
        match self {
            Topology::Workspace => None,
            Topology::Sandbox => Some("cargo lab --sandbox".into()),
            Topology::Lan(hosts) => Some(format!("cargo lab {}", hosts.join(" "))),
        }
    }
}

/// One scenario: a fresh network and the steps run in it, in book order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Line (1-based) of the marker that started it, or 1 for the implicit one.
    pub line: usize,
    /// The lab it needs.
    pub topology: Topology,
    /// The prose between the previous code block and this scenario's first block, where
    /// the reader is told which lab to open.
    pub opening: String,
    /// The `console` blocks, in order.
    pub steps: Vec<Step>,
}

/// One `console` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Line (1-based) of the opening fence.
    pub line: usize,
    /// 1 for the reader's main terminal; anything else runs in the background.
    pub terminal: u32,
    /// The host that runs it (`None`: the sandbox, or the LAN's first host).
    pub host: Option<String>,
    /// Expected exit status of the block's last command.
    pub status: i32,
    /// The commands with their expected output.
    pub commands: Vec<Command>,
    /// The text just before the block (its caption), used to check that the
    /// reader is told where the block runs.
    pub caption: String,
}

/// One `$ ` line and the output the book shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Line (1-based) of the `$ ` line.
    pub line: usize,
    /// The command as the reader types it.
    pub text: String,
    /// The expected output lines, with `[..]` and `...` placeholders.
    pub expected: Vec<String>,
}

/// A problem in the markdown itself (not in a program's output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Line (1-based) where the problem is.
    pub line: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Splits a chapter into scenarios and steps.
pub fn parse(markdown: &str) -> Result<Vec<Scenario>, SyntaxError> {
    let mut scenarios = vec![Scenario {
        line: 1,
        topology: Topology::Workspace,
        opening: String::new(),
        steps: Vec::new(),
    }];
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    let mut caption_lines: Vec<&str> = Vec::new();
    // Every prose line since the last code block, for a scenario's opening.
    let mut prose: Vec<&str> = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("<!-- walkthrough:") {
            let spec = rest.trim_end_matches("-->").trim();
            scenarios.push(Scenario {
                line: i + 1,
                topology: parse_topology(spec, i + 1)?,
                opening: String::new(),
                steps: Vec::new(),
            });
            i += 1;
            continue;
        }
        if let Some(info) = trimmed.strip_prefix("```") {
            let fence_line = i + 1;
            let fence = &line[..line.find("```").unwrap_or(0) + 3];
            let (language, attributes) = match info.split_once(',') {
                Some((language, attributes)) => (language.trim(), attributes),
                None => (info.trim(), ""),
            };
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with(fence.trim_start()) {
                body.push((i + 1, lines[i]));
                i += 1;
            }
            if i == lines.len() {
                return Err(SyntaxError {
                    line: fence_line,
                    message: "code block is never closed".into(),
                });
            }
            i += 1;
            if language == "console" {
                let caption = caption_lines
                    .iter()
                    .filter(|l| !l.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                let step = parse_step(fence_line, attributes, &body, caption)?;
                let scenario = scenarios.last_mut().expect("never empty");
                check_commands(&scenario.topology, &step)?;
                if scenario.steps.is_empty() {
                    scenario.opening = prose.join(" ");
                }
                scenario.steps.push(step);
            }
            caption_lines.clear();
            prose.clear();
            continue;
        }
        if !trimmed.is_empty() {
            prose.push(trimmed);
        }
        if trimmed.is_empty() {
            if !caption_lines.is_empty() {
                caption_lines.push("");
            }
        } else {
            if caption_lines.last() == Some(&"") {
                caption_lines.clear();
            }
            caption_lines.push(trimmed);
        }
        i += 1;
    }
    scenarios.retain(|s| !s.steps.is_empty());
    Ok(scenarios)
}

fn parse_topology(spec: &str, line: usize) -> Result<Topology, SyntaxError> {
    let mut words = spec.split_whitespace();
    match words.next() {
        Some("sandbox") if words.next().is_none() => Ok(Topology::Sandbox),
        Some("lan") => {
            let hosts: Vec<String> = words.map(str::to_owned).collect();
            if hosts.is_empty() {
                return Err(SyntaxError {
                    line,
                    message: "`lan` needs host names, e.g. `<!-- walkthrough: lan a b -->`".into(),
                });
            }
            Ok(Topology::Lan(hosts))
        }
        _ => Err(SyntaxError {
            line,
            message: format!(
                "unknown walkthrough network `{spec}`: expected `sandbox` or `lan <host>...`"
            ),
        }),
    }
}

/// The commands a block may hold where it runs: in a lab, the workspace's programs by name
/// (a `cargo run` there would build inside the lab, slowly, and is not what the book
/// teaches); in the reader's own shell, nothing but `cargo`, so that nothing the book shows
/// sends multicast outside a lab.
fn check_commands(topology: &Topology, step: &Step) -> Result<(), SyntaxError> {
    for command in &step.commands {
        let cargo = command.text.starts_with("cargo ");
        let runs_cargo = command
            .text
            .split(" | ")
            .any(|stage| stage.trim().starts_with("cargo run"));
        let message = match topology {
            Topology::Workspace if !cargo => format!(
                "`{}` runs in the reader's own shell: only `cargo` commands may (open a lab \
                 with `<!-- walkthrough: sandbox -->` or `<!-- walkthrough: lan a b -->`)",
                command.text
            ),
            Topology::Sandbox | Topology::Lan(_) if runs_cargo => format!(
                "`{}`: in a lab shell, type the program's name (the lab puts the workspace's \
                 programs on PATH)",
                command.text
            ),
            _ => continue,
        };
        return Err(SyntaxError {
            line: command.line,
            message,
        });
    }
    Ok(())
}

fn parse_step(
    line: usize,
    attributes: &str,
    body: &[(usize, &str)],
    caption: String,
) -> Result<Step, SyntaxError> {
    let mut step = Step {
        line,
        terminal: 1,
        host: None,
        status: 0,
        commands: Vec::new(),
        caption,
    };
    for attribute in attributes
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let bad = |what: &str| SyntaxError {
            line,
            message: format!("attribute `{attribute}`: {what}"),
        };
        match attribute.split_once('=') {
            Some(("terminal", n)) => {
                step.terminal = n.parse().map_err(|_| bad("expected a terminal number"))?
            }
            Some(("host", name)) => step.host = Some(name.to_owned()),
            Some(("status", n)) => {
                step.status = n.parse().map_err(|_| bad("expected an exit status"))?
            }
            _ => return Err(bad("expected terminal=N, host=NAME or status=N")),
        }
    }
    for &(number, text) in body {
        if let Some(command) = text.strip_prefix("$ ") {
            step.commands.push(Command {
                line: number,
                text: command.trim().to_owned(),
                expected: Vec::new(),
            });
        } else if let Some(command) = step.commands.last_mut() {
            command.expected.push(text.to_owned());
        } else if !text.trim().is_empty() {
            return Err(SyntaxError {
                line: number,
                message: "output before the first `$ ` command".into(),
            });
        }
    }
    for command in &mut step.commands {
        while command.expected.last().is_some_and(|l| l.trim().is_empty()) {
            command.expected.pop();
        }
    }
    if step.commands.is_empty() {
        return Err(SyntaxError {
            line,
            message: "a console block needs at least one `$ ` command".into(),
        });
    }
    if step.terminal != 1 && step.commands.len() != 1 {
        return Err(SyntaxError {
            line,
            message: "a background (terminal) block holds exactly one command".into(),
        });
    }
    Ok(step)
}

/// Code blocks that show shell commands but are not `console` blocks, so the suite would
/// not run them: every `sh`, `bash` or `shell` block, and every `text` block whose first
/// line is a `$ ` command. One error per block, at its opening fence.
pub fn unrun_command_blocks(markdown: &str) -> Vec<SyntaxError> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut found = Vec::new();
    let mut inside = false;
    for (index, line) in lines.iter().enumerate() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        if inside {
            // Only a bare fence closes a block; a fence with a language is the block's text.
            inside = !info.trim().is_empty();
            continue;
        }
        inside = true;
        let language = info.split(',').next().unwrap_or("").trim();
        let first = lines.get(index + 1).copied().unwrap_or("");
        let shows_commands = matches!(language, "sh" | "bash" | "shell")
            || (language == "text" && first.starts_with("$ "));
        if shows_commands {
            found.push(SyntaxError {
                line: index + 1,
                message: format!(
                    "a `{language}` block with commands: make it a `console` block so the suite runs it"
                ),
            });
        }
    }
    found
}

/// A program the book runs through cargo: `cargo run -q -p PACKAGE --bin BIN -- ARGS`, or
/// an example, `cargo run -q -p PACKAGE --features LIST --example NAME -- ARGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoRun {
    /// The package (`-p`).
    pub package: String,
    /// The binary (`--bin`) or example (`--example`) it runs.
    pub target: Target,
    /// The features it is built with (`--features`/`-F`, comma- or space-separated), in the
    /// order given.
    pub features: Vec<String>,
    /// Everything after `--`, as the reader typed it (still shell syntax).
    pub arguments: String,
}

/// Which kind of program a `cargo run` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--bin NAME`: one of the package's programs (`src/bin/NAME.rs`).
    Bin(String),
    /// `--example NAME`: one of the package's examples (`examples/NAME.rs`).
    Example(String),
}

/// Recognises a `cargo run` command, or the `cargo lab` alias. `Ok(None)` for any other
/// command.
///
/// The book must use `-q`: without it cargo prints its own progress lines,
/// and the output shown would not be what the reader sees.
pub fn cargo_run(command: &str) -> Result<Option<CargoRun>, String> {
    // `cargo lab` is the workspace's alias (`.cargo/config.toml`) for running the lab crate's
    // `lab`.
    if let Some(arguments) = command.strip_prefix("cargo lab") {
        return Ok(Some(CargoRun {
            package: "lab".into(),
            target: Target::Bin("lab".into()),
            features: Vec::new(),
            arguments: arguments.trim().to_owned(),
        }));
    }
    let Some(rest) = command.strip_prefix("cargo run") else {
        return Ok(None);
    };
    let (options, arguments) = match rest.split_once(" -- ") {
        Some((options, arguments)) => (options, arguments.trim()),
        None => (rest.strip_suffix(" --").unwrap_or(rest), ""),
    };
    let (mut package, mut targets, mut features, mut quiet) = (None, Vec::new(), Vec::new(), false);
    let mut words = options.split_whitespace();
    while let Some(word) = words.next() {
        match word {
            "-q" | "--quiet" => quiet = true,
            "-p" | "--package" => package = words.next().map(str::to_owned),
            "--bin" => targets.extend(words.next().map(|name| Target::Bin(name.to_owned()))),
            "--example" => {
                targets.extend(words.next().map(|name| Target::Example(name.to_owned())))
            }
            "-F" | "--features" => features.extend(
                words
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            other => {
                return Err(format!(
                    "`{command}`: unsupported cargo option `{other}` (expected -q, -p PACKAGE, \
                     --bin NAME or --example NAME, --features LIST)"
                ));
            }
        }
    }
    if !quiet {
        return Err(format!(
            "`{command}`: write `cargo run -q ...` so the book shows only the program's own output"
        ));
    }
    match (package, targets.as_slice()) {
        (Some(package), [target]) => Ok(Some(CargoRun {
            package,
            target: target.clone(),
            features,
            arguments: arguments.to_owned(),
        })),
        _ => Err(format!(
            "`{command}`: name the package (-p) and one program (--bin NAME or --example NAME)"
        )),
    }
}

/// Checks an actual output against the lines the book shows.
///
/// Trailing whitespace on each line and trailing empty lines are ignored.
/// On a mismatch the error shows both sides.
pub fn check_output(expected: &[String], actual: &str) -> Result<(), String> {
    let actual_lines: Vec<&str> = actual.lines().map(str::trim_end).collect();
    let mut actual_lines = actual_lines.as_slice();
    while actual_lines.last().is_some_and(|l| l.is_empty()) {
        actual_lines = &actual_lines[..actual_lines.len() - 1];
    }
    let expected_lines: Vec<&str> = expected.iter().map(|l| l.trim_end()).collect();
    if lines_match(&expected_lines, actual_lines) {
        Ok(())
    } else {
        Err(format!(
            "--- the book shows:\n{}\n--- the program printed:\n{}\n---",
            expected_lines.join("\n"),
            actual_lines.join("\n")
        ))
    }
}

/// Whether the actual output could still grow into the expected one: every
/// line so far matches, in order. Used to wait for a background program.
pub fn is_prefix_of_match(expected: &[String], actual: &str) -> bool {
    let actual: Vec<&str> = actual.lines().map(str::trim_end).collect();
    let expected: Vec<&str> = expected.iter().map(|l| l.trim_end()).collect();
    prefix_match(&expected, &actual)
}

fn prefix_match(expected: &[&str], actual: &[&str]) -> bool {
    match (expected.first(), actual.first()) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(&"..."), Some(_)) => {
            prefix_match(&expected[1..], actual) || prefix_match(expected, &actual[1..])
        }
        (Some(e), Some(a)) => line_matches(e, a) && prefix_match(&expected[1..], &actual[1..]),
    }
}

fn lines_match(expected: &[&str], actual: &[&str]) -> bool {
    match (expected.first(), actual.first()) {
        (None, None) => true,
        (Some(&"..."), _) => {
            lines_match(&expected[1..], actual)
                || (!actual.is_empty() && lines_match(expected, &actual[1..]))
        }
        (Some(e), Some(a)) => line_matches(e, a) && lines_match(&expected[1..], &actual[1..]),
        _ => false,
    }
}

/// One line against a pattern where `[..]` matches any run of characters.
fn line_matches(pattern: &str, line: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// `[..]` stands for whatever varies within one line, and nothing else.
    #[test]
    fn placeholder_matches_within_a_line() {
        assert!(line_matches("from 10.0.0.1:[..]", "from 10.0.0.1:51234"));
        assert!(line_matches("[..] bytes from [..]", "19 bytes from a"));
        assert!(!line_matches("from 10.0.0.1:[..]", "from 10.0.0.2:51234"));
        assert!(!line_matches("ab[..]ba", "aba"));
        assert!(line_matches("exact", "exact"));
    }

    /// `...` absorbs any number of lines, including none; other lines must all match.
    #[test]
    fn ellipsis_line_matches_any_lines() {
        let expected = strings(&["first", "...", "last"]);
        assert!(check_output(&expected, "first\nlast\n").is_ok());
        assert!(check_output(&expected, "first\na\nb\nlast").is_ok());
        assert!(check_output(&expected, "first\na\n").is_err());
    }

    /// A line the book does not show is a failure: changed output fails the suite.
    #[test]
    fn extra_output_is_a_mismatch() {
        let expected = strings(&["hello"]);
        let error = check_output(&expected, "hello\nsurprise\n").unwrap_err();
        assert!(error.contains("surprise"), "{error}");
    }

    /// A background program is waited for while its output is a prefix of the book's.
    #[test]
    fn prefix_of_expected_output_is_recognised() {
        let expected = strings(&["one", "two"]);
        assert!(is_prefix_of_match(&expected, "one\n"));
        assert!(!is_prefix_of_match(&expected, "two\n"));
        assert!(!is_prefix_of_match(&expected, "one\ntwo\nthree\n"));
    }

    /// Markers, attributes, captions and openings end up in the right scenario and step.
    #[test]
    fn chapter_splits_into_scenarios_and_steps() {
        let chapter = "\
# Title

```console
$ cargo run -q -p docs --bin tour
one
```

Open a lab with two hosts, `cargo lab a b`.

<!-- walkthrough: lan a b -->

In terminal 2, on host b:

```console,terminal=2,host=b
$ receive
hello
```

```console,status=1
$ false
$ echo x
x

```
";
        let scenarios = parse(chapter).unwrap();
        assert_eq!(scenarios.len(), 2);
        assert_eq!(scenarios[0].topology, Topology::Workspace);
        assert_eq!(scenarios[0].steps[0].commands[0].expected, ["one"]);
        let lan = &scenarios[1];
        assert_eq!(lan.topology, Topology::Lan(vec!["a".into(), "b".into()]));
        assert_eq!(
            lan.opening,
            "Open a lab with two hosts, `cargo lab a b`. In terminal 2, on host b:"
        );
        assert_eq!(lan.topology.lab_command().unwrap(), "cargo lab a b");
        assert_eq!(lan.steps[0].terminal, 2);
        assert_eq!(lan.steps[0].host.as_deref(), Some("b"));
        assert_eq!(lan.steps[0].caption, "In terminal 2, on host b:");
        assert_eq!(lan.steps[1].status, 1);
        assert_eq!(lan.steps[1].commands.len(), 2);
        assert_eq!(lan.steps[1].commands[1].expected, ["x"]);
    }

    /// Outside a lab only `cargo` runs; inside one, programs are typed by name.
    #[test]
    fn commands_must_suit_where_they_run() {
        let outside = parse("```console\n$ receive\n```\n").unwrap_err();
        assert!(outside.message.contains("only `cargo`"), "{outside}");
        let inside = "<!-- walkthrough: sandbox -->\n\n```console\n\
                      $ echo hi | cargo run -q -p ruby-port --bin chat\n```\n";
        let error = parse(inside).unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.message.contains("program's name"), "{error}");
    }

    /// Other code blocks are not steps, and a non-console block hides no commands.
    #[test]
    fn only_console_blocks_are_steps() {
        let chapter = "```sh\n$ rm -rf /\n```\n\n```rust\nfn main() {}\n```\n";
        assert!(parse(chapter).unwrap().is_empty());
    }

    /// Commands in `sh`, `bash`, `shell` and `text` blocks are found; a `text` block of
    /// plain output, a `console` block and a fence inside another block's text are not.
    #[test]
    fn commands_outside_console_blocks_are_found() {
        let chapter = "\
```text
$ ip maddr
```

```text
1: lo
```

```console
$ ip maddr
```

```bash
ip link
```

```shell,ignore
ip route
```
";
        let lines: Vec<usize> = unrun_command_blocks(chapter)
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, [1, 13, 17]);
        assert!(unrun_command_blocks("```md\n```sh\n```\n").is_empty());
    }

    /// `cargo run` maps to a package's binary or example, with its features; forgetting
    /// `-q` or naming no program is reported.
    #[test]
    fn cargo_run_is_recognised() {
        let run = cargo_run("cargo run -q -p ruby-port --bin send -- 'hi there'")
            .unwrap()
            .unwrap();
        assert_eq!(run.package, "ruby-port");
        assert_eq!(run.target, Target::Bin("send".into()));
        assert_eq!(run.arguments, "'hi there'");
        let bare = cargo_run("cargo run -q -p loopback --bin server")
            .unwrap()
            .unwrap();
        assert_eq!(bare.arguments, "");
        assert!(bare.features.is_empty());
        let example = cargo_run("cargo run -q -p harness --features tokio --example tokio_x")
            .unwrap()
            .unwrap();
        assert_eq!(example.target, Target::Example("tokio_x".into()));
        assert_eq!(example.features, ["tokio"]);
        let two = cargo_run("cargo run -q -p x -F a,b --example y")
            .unwrap()
            .unwrap();
        assert_eq!(two.features, ["a", "b"]);
        assert!(
            cargo_run("cargo run -p x --bin y")
                .unwrap_err()
                .contains("-q")
        );
        assert!(
            cargo_run("cargo run -q -p x")
                .unwrap_err()
                .contains("--example NAME")
        );
        assert!(
            cargo_run("cargo run -q -p x --bin y --example z")
                .unwrap_err()
                .contains("one program")
        );
        assert_eq!(cargo_run("ip maddr").unwrap(), None);
        let lab = cargo_run("cargo lab check").unwrap().unwrap();
        assert_eq!(
            (lab.target, lab.arguments.as_str()),
            (Target::Bin("lab".into()), "check")
        );
    }
}
