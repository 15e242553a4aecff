//! docs/tour.md, run as written: every ```sh block of `cargo run --bin
//! cmdctl -- ...` lines is run in order, each section (`## ...`) on a fresh
//! store, and what they print is the ```text block that follows, with the
//! clock's times masked (the tour's times are the ones it was written at).

use crate::harness::*;

/// One ```sh block and the ```text block after it.
struct Example {
    section: String,
    commands: Vec<Vec<String>>,
    output: String,
}

fn examples() -> Vec<Example> {
    let tour = std::fs::read_to_string(repo().join("docs/tour.md")).expect("docs/tour.md");
    let mut examples = Vec::new();
    let mut section = String::new();
    let mut lines = tour.lines();
    let mut pending: Option<Vec<Vec<String>>> = None;
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.to_owned();
            continue;
        }
        let fence = line.trim_end();
        if fence != "```sh" && fence != "```text" {
            continue;
        }
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        if fence == "```sh" {
            let commands = body
                .iter()
                .map(|l| {
                    let args = l
                        .strip_prefix("cargo run --bin cmdctl -- ")
                        .unwrap_or_else(|| panic!("a tour command runs cmdctl: {l}"));
                    words(args)
                })
                .collect();
            pending = Some(commands);
        } else if let Some(commands) = pending.take() {
            examples.push(Example {
                section: section.clone(),
                commands,
                output: body.iter().map(|l| format!("{l}\n")).collect(),
            });
        }
    }
    examples
}

/// The words of a shell line that quotes with `'...'` only.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    assert!(!quoted, "an unclosed quote in: {line}");
    if started {
        words.push(word);
    }
    words
}

/// `text` with every RFC 3339 UTC time (`2026-11-30T14:52:08.536Z`,
/// `2027-11-30T16:48:58Z`) written as `T` padded to the same width, so
/// columns stay where they are.
fn mask_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        match time_at(&chars[i..]) {
            Some(len) => {
                out.push_str(&"T".repeat(len));
                i += len;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// The length of the time that starts `s`, if one does.
fn time_at(s: &[char]) -> Option<usize> {
    let shape = "dddd-dd-ddTdd:dd:dd";
    if s.len() < shape.len() + 1 {
        return None;
    }
    let fits = shape.chars().zip(s).all(|(p, c)| match p {
        'd' => c.is_ascii_digit(),
        p => p == *c,
    });
    if !fits {
        return None;
    }
    let mut len = shape.len();
    if s.get(len) == Some(&'.') {
        len += 1;
        while s.get(len).is_some_and(char::is_ascii_digit) {
            len += 1;
        }
    }
    (s.get(len) == Some(&'Z')).then_some(len + 1)
}

#[test]
fn the_tours_words_and_times_are_read_as_a_shell_and_a_clock_would() {
    assert_eq!(
        words(r#"exec order o-1 CreateOrder --payload '{"itemId":"beans"}' --command-id x"#),
        [
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--payload",
            r#"{"itemId":"beans"}"#,
            "--command-id",
            "x"
        ]
    );
    assert_eq!(
        mask_times("at 2026-11-30T14:52:08.536Z and 2027-11-30T16:48:58Z."),
        format!("at {} and {}.", "T".repeat(24), "T".repeat(20))
    );
    assert_eq!(mask_times("2026-11-30 not a time"), "2026-11-30 not a time");
}

#[test]
fn every_example_of_the_tour_prints_what_the_tour_shows() {
    let examples = examples();
    assert!(
        examples.len() >= 4,
        "the tour's examples were not found: {}",
        examples.len()
    );
    let mut store: Option<(String, Cli)> = None;
    for example in &examples {
        if store.as_ref().is_none_or(|(s, _)| *s != example.section) {
            store = Some((example.section.clone(), Cli::new()));
        }
        let (_, cli) = store.as_ref().expect("a store");
        let mut printed = String::new();
        for command in &example.commands {
            let args: Vec<&str> = command.iter().map(String::as_str).collect();
            printed.push_str(&cli.run(&args).ok().stdout);
        }
        assert_eq!(
            mask_times(&printed),
            mask_times(&example.output),
            "docs/tour.md, section {:?}: {:?}",
            example.section,
            example.commands
        );
    }
}
