//! The README's "An outside event" example, run as written on a fresh
//! store: its output block is the real output.

use crate::harness::*;

/// The section's ```sh commands (each `cargo run --bin cmdctl -- ARGS`)
/// and its ```text block.
fn readme_example() -> (Vec<String>, String) {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let section = readme
        .split_once("### An outside event")
        .expect("the README has the section")
        .1;
    let block = |fence: &str| -> String {
        let start = section
            .split_once(fence)
            .unwrap_or_else(|| panic!("the section has a {fence} block"))
            .1;
        start
            .split_once("```")
            .expect("the block ends")
            .0
            .to_owned()
    };
    let commands = block("```sh\n")
        .lines()
        .map(|line| {
            line.strip_prefix("cargo run --bin cmdctl -- ")
                .unwrap_or_else(|| panic!("a cmdctl command: {line}"))
                .to_owned()
        })
        .collect();
    (commands, block("```text\n"))
}

/// The arguments of one command line: words, and '...' quoted words.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let (word, tail) = match rest.strip_prefix('\'') {
            Some(quoted) => quoted.split_once('\'').expect("a closing quote"),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        out.push(word.to_owned());
        rest = tail.trim_start();
    }
    out
}

#[test]
fn the_outside_event_example_prints_what_the_readme_shows() {
    let (commands, expected) = readme_example();
    let cli = Cli::new();
    let mut stdout = String::new();
    for line in &commands {
        let args = words(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // The fixture path is the repository's.
        let fixture_path = repo().join("tests/fixtures/payment-succeeded.json");
        let fixture_path = fixture_path.to_str().expect("utf-8 path").to_owned();
        let args: Vec<&str> = args
            .into_iter()
            .map(|a| {
                if a == "tests/fixtures/payment-succeeded.json" {
                    fixture_path.as_str()
                } else {
                    a
                }
            })
            .collect();
        stdout.push_str(&cli.run(&args).ok().stdout);
    }
    assert_eq!(stdout, expected);
}
