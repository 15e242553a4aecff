//! The README's "Over HTTP" examples, run as written against a fresh
//! `cmdctl serve`: each `curl` line is sent (its `-H` headers and `-d`
//! body, through a real socket) and its answer compared with the block's
//! output, `recordedAt` times aside.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::harness::*;
use crate::serve::Server;

/// The `$ curl ...` lines of the section and the output line after each.
fn examples() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let section = readme
        .split_once("### Over HTTP")
        .expect("the README has an Over HTTP section")
        .1
        .split_once("\n## ")
        .expect("the section ends")
        .0;
    section
        .split("```console\n")
        .skip(1)
        .map(|block| {
            let block = block.split_once("```").expect("the block ends").0;
            let mut lines = block.lines();
            let command = lines.next().expect("a command line");
            let command = command.strip_prefix("$ ").expect("`$ curl ...`").to_owned();
            let output = lines.collect::<Vec<_>>().join("\n");
            (command, output)
        })
        .collect()
}

/// Shell words of a one-line command: single quotes, spaces, `|`.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// What `curl -s [-H ..] [-d ..] URL [| head -c N]` prints.
fn curl(addr: &str, line: &str) -> String {
    let words = words(line);
    let mut headers = Vec::new();
    let mut body = None;
    let mut path = None;
    let mut cut = None;
    let mut i = 1;
    while i < words.len() {
        match words[i].as_str() {
            "-s" => {}
            "-H" => {
                i += 1;
                headers.push(words[i].clone());
            }
            "-d" => {
                i += 1;
                body = Some(words[i].clone());
            }
            "|" => {
                assert_eq!(&words[i + 1..i + 3], ["head", "-c"], "{line}");
                cut = Some(words[i + 3].parse::<usize>().expect("a count"));
                break;
            }
            url => {
                let rest = url
                    .strip_prefix("localhost:8080")
                    .expect("localhost:8080/...");
                path = Some(rest.to_owned());
            }
        }
        i += 1;
    }
    let method = if body.is_some() { "POST" } else { "GET" };
    let body = body.unwrap_or_default();
    let mut request = format!(
        "{method} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n",
        path.expect("a URL")
    );
    for header in headers {
        request.push_str(&header);
        request.push_str("\r\n");
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("an answer");
    let answer = raw
        .split_once("\r\n\r\n")
        .expect("head and body")
        .1
        .to_owned();
    match cut {
        Some(n) => answer.chars().take(n).collect(),
        None => answer,
    }
}

/// `"recordedAt":"…"` as `"recordedAt":"T"`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some((before, after)) = rest.split_once("\"recordedAt\":\"") {
        out.push_str(before);
        out.push_str("\"recordedAt\":\"T\"");
        rest = after.split_once('"').map_or("", |(_, tail)| tail);
    }
    out.push_str(rest);
    out
}

#[test]
fn the_readme_http_examples_answer_what_the_readme_shows() {
    let server = Server::start(Cli::new(), &[]);
    let examples = examples();
    assert!(
        examples.len() >= 9,
        "every route has an example: {examples:?}"
    );
    for (command, shown) in examples {
        let answer = curl(&server.addr, &command);
        assert_eq!(masked(&answer), masked(&shown), "{command}");
    }
}
