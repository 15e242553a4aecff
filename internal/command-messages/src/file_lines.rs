//! A file of command messages, one JSON object a line (`cmdctl send
//! --file`): every line checked with the handler's own parser before
//! anything is sent, and each given a `commandId` that is the same on every
//! run ([`file_line_command_id`]), so a file sent again applies each line
//! once.

use std::collections::HashMap;

use handler_core::state_machine::ids::file_line_command_id;

use crate::command_id::with_command_id;

/// One command message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its line number in the file, from 1.
    pub number: usize,
    /// The body to send.
    pub body: String,
    /// Its `commandId`: the line's own, or [`file_line_command_id`].
    pub command_id: String,
    /// The FIFO message group, `TYPE#ID`.
    pub group: Option<String>,
}

/// A line that would be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its line number, from 1.
    pub number: usize,
    /// Why.
    pub error: String,
}

/// Every command of the text, or every line that would be refused. Blank
/// lines and lines starting with `#` are skipped. A line without a
/// `commandId` is given [`file_line_command_id`], written into its body.
pub fn parse_lines(text: &str, fifo: bool) -> Result<Vec<Line>, Vec<BadLine>> {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let occurrence = seen.entry(trimmed).or_insert(0);
        *occurrence += 1;
        match parse_line(number, trimmed, fifo, *occurrence) {
            Ok(line) => lines.push(line),
            Err(error) => bad.push(BadLine { number, error }),
        }
    }
    if bad.is_empty() { Ok(lines) } else { Err(bad) }
}

fn parse_line(number: usize, text: &str, fifo: bool, occurrence: usize) -> Result<Line, String> {
    let stand_in = format!("line-{number}");
    handler_core::parse_command(text, &stand_in).map_err(|e| e.to_string())?;
    // The same line gets the same id on every run, whatever comes before or
    // after it, so a file sent again (whole, or after a partial failure)
    // applies each command once; two equal lines of one file are two
    // commands. Valid as a FIFO deduplication id.
    let derived = file_line_command_id(text, occurrence);
    let body = with_command_id(text, &derived).ok_or("not a JSON object")?;
    // The id the handler will read: the line's own, or the one written in.
    let command = handler_core::parse_command(&body, &stand_in).map_err(|e| e.to_string())?;
    let group = fifo.then(|| crate::envelope::fifo_group(&command.key.to_string()));
    Ok(Line {
        number,
        body,
        command_id: command.command_id,
        group,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_file_line_command_id_is_pinned() {
        // A file sent again must give each line the id it had.
        assert_eq!(
            file_line_command_id(r#"{"aggregateType":"order"}"#, 1),
            "file-9d120e8197e835f9df7d77b57473093b"
        );
    }

    const CREATE: &str = r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder","payload":{"itemId":"tea","quantity":1}}"#;

    fn body(line: &Line) -> Value {
        serde_json::from_str(&line.body).unwrap()
    }

    #[test]
    fn skips_blanks_and_comments_and_writes_a_derived_command_id_on_standard_queues() {
        let text = format!(
            "# orders\n\n{CREATE}\n  \n{}\n",
            CREATE.replace("o-1", "o-2")
        );
        let lines = parse_lines(&text, false).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].command_id, file_line_command_id(CREATE, 1));
        assert_eq!(body(&lines[0])["commandId"], lines[0].command_id.as_str());
        assert_eq!(
            lines[0].body,
            CREATE.replacen(
                '{',
                &format!(r#"{{"commandId":"{}","#, lines[0].command_id),
                1
            ),
            "the rest of the line is sent as it is"
        );
        assert_eq!(lines[0].group, None);
        assert_eq!(lines[1].number, 5);
    }

    #[test]
    fn derived_ids_depend_on_the_line_and_its_occurrence_only() {
        let other = CREATE.replace("o-1", "o-2");
        let whole = format!("{CREATE}\n{other}\n{CREATE}\n");
        let ids = |text: &str, fifo| -> Vec<String> {
            parse_lines(text, fifo)
                .unwrap()
                .into_iter()
                .map(|l| l.command_id)
                .collect()
        };
        let all = ids(&whole, false);
        assert_eq!(all, ids(&whole, false), "the same on every run");
        assert_eq!(all, ids(&whole, true), "and on every queue type");
        assert_ne!(all[0], all[2], "two equal lines are two commands");
        assert_ne!(all[0], all[1]);
        assert_eq!(
            ids(&format!("{CREATE}\n"), false),
            all[..1],
            "a file's first part"
        );
        assert_eq!(
            ids(
                &format!("# new comment\n{other}\n\n{CREATE}\n{CREATE}\n"),
                false
            ),
            [all[1].clone(), all[0].clone(), all[2].clone()],
            "whatever comes before"
        );
        assert!(
            all[0].starts_with("file-") && all[0].len() == 37,
            "{}",
            all[0]
        );
    }

    #[test]
    fn on_fifo_the_group_is_the_aggregate_and_a_given_command_id_is_kept() {
        let with_id = CREATE.replacen('{', r#"{"commandId":"c-9","#, 1);
        let text = format!("{CREATE}\n{with_id}");
        let lines = parse_lines(&text, true).unwrap();
        assert_eq!(lines[0].group.as_deref(), Some("order#o-1"));
        assert_eq!(lines[0].command_id, file_line_command_id(CREATE, 1));
        assert_eq!(body(&lines[0])["commandId"], lines[0].command_id.as_str());
        assert_eq!(body(&lines[0])["payload"]["quantity"], 1);
        assert_eq!(lines[1].command_id, "c-9");
        assert_eq!(lines[1].body, with_id, "a body with its id goes as it is");
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = format!(
            "{CREATE}\n{{not json\n{}\n[1]\n{}",
            CREATE.replace("\"o-1\"", "\"a#b\""),
            CREATE.replace("CreateOrder\"", "CreateOrder\",\"extra\":1")
        );
        let bad = parse_lines(&text, false).unwrap_err();
        let numbers: Vec<usize> = bad.iter().map(|b| b.number).collect();
        assert_eq!(numbers, [2, 3, 4, 5]);
        assert!(bad[0].error.contains("malformed"), "{:?}", bad[0]);
        assert!(bad[1].error.contains("aggregateId"), "{:?}", bad[1]);
        assert!(bad[3].error.contains("extra"), "{:?}", bad[3]);
    }
}
