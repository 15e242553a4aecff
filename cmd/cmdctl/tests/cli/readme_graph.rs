//! The README's "The saga, drawn from the configs": its Mermaid block is
//! what `cmdctl config graph` draws from `config/` now.

use crate::harness::*;

#[test]
fn the_readme_saga_diagram_is_what_the_configs_draw() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let section = readme
        .split_once("### The saga, drawn from the configs")
        .expect("the README has the section")
        .1;
    let command = section
        .split_once("```sh\n")
        .expect("the section has a ```sh block")
        .1
        .split_once('\n')
        .expect("one command line")
        .0;
    let args: Vec<&str> = command
        .strip_prefix("cargo run --bin cmdctl -- ")
        .expect("a cmdctl command")
        .split(' ')
        .collect();
    let copy = section
        .split_once("```mermaid\n")
        .expect("the section has a ```mermaid block")
        .1
        .split_once("```")
        .expect("the block ends")
        .0;
    let drawn = Cli::new().run(&args).ok().stdout;
    assert!(
        copy == drawn,
        "the README's saga diagram differs from what the configs draw; regenerate it with \
         `cargo run --bin cmdctl -- {}` and paste the output into the ```mermaid block.\n\
         drawn:\n{drawn}",
        args.join(" ")
    );
}

#[test]
fn an_unknown_type_is_refused_with_its_name() {
    let run = Cli::new().run(&["config", "graph", "nosuch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`nosuch`"), "{}", run.stderr);
}
