//! `trace --root` after a config version change (issue 20 item 13): the
//! walk rebuilds each event's reactions from the current configs, whose
//! ids then carry the building version (`.../v2/0`); the reactions sent
//! under the recording version's plain ids (`.../0`) are still followed.

use crate::harness::*;

#[test]
fn trace_root_follows_reactions_sent_before_a_config_version_change() {
    let cli = Cli::new();
    cli.run(&[
        "exec",
        "order",
        "o-9",
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":2}"#,
        "--command-id",
        "create-o-9",
    ])
    .ok();
    let scanned = cli.run(&["trace", "create-o-9", "--json"]).ok().json();
    let rows = scanned["events"].as_array().expect("events").len();
    assert!(rows >= 3, "the saga's first steps: {scanned}");
    assert_eq!(scanned["events"][1]["commandId"], "order#o-9@1/0");

    // The same configs, every one at version 2.
    let bumped = tempfile::tempdir().expect("a temp dir");
    for entry in std::fs::read_dir(config_dir()).expect("config/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("a config");
            let text = text.replacen("\"version\": 1,", "\"version\": 2,", 1);
            std::fs::write(bumped.path().join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let dir = bumped.path().to_str().expect("utf-8 path");
    let walked = cli
        .run(&[
            "--config-dir",
            dir,
            "trace",
            "create-o-9",
            "--root",
            "order",
            "o-9",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(walked, scanned);
}
