//! One config's states and transitions drawn as SVG, one state marked: the
//! picture the console shows beside an aggregate.
//!
//! The layout is by distance from the initial state: the initial state in
//! the first column, each other state in the column of the fewest
//! transitions that reach it, states no transition reaches in a last
//! column. Edges are curves labelled with their command; a transition back
//! to its own state is a loop above its box. Every name is escaped as XML
//! text, and the drawing uses presentation attributes only (no `<style>`,
//! no script), so it shows the same under any content-security policy. The
//! same config draws the same bytes.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

use crate::graph::guard_name;
use crate::model::config::Config;

const BOX_HEIGHT: f64 = 36.0;
const ROW_GAP: f64 = 40.0;
const COLUMN_GAP: f64 = 150.0;
const MARGIN: f64 = 40.0;
const CHAR_WIDTH: f64 = 7.5;

/// Where one state is drawn.
struct Placed {
    x: f64,
    y: f64,
    width: f64,
}

/// Draws `config`, with `current` (when it names one of its states) filled
/// and outlined thicker.
pub fn svg(config: &Config, current: Option<&str>) -> String {
    let columns = columns(config);
    let width_of = |s: &str| (s.chars().count() as f64 * CHAR_WIDTH + 28.0).max(90.0);
    let column_width = config
        .states
        .iter()
        .map(|s| width_of(s))
        .fold(90.0, f64::max);
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let placed: Vec<Placed> = config
        .states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let row = rows.entry(columns[i]).or_insert(0);
            let y = MARGIN + *row as f64 * (BOX_HEIGHT + ROW_GAP);
            *row += 1;
            let width = width_of(state);
            Placed {
                x: MARGIN
                    + columns[i] as f64 * (column_width + COLUMN_GAP)
                    + (column_width - width) / 2.0,
                y,
                width,
            }
        })
        .collect();
    let column_count = columns.iter().max().map_or(1, |c| c + 1);
    let row_count = rows.values().max().copied().unwrap_or(1);
    let width = 2.0 * MARGIN
        + column_count as f64 * column_width
        + (column_count.saturating_sub(1)) as f64 * COLUMN_GAP;
    let height = 2.0 * MARGIN + row_count as f64 * (BOX_HEIGHT + ROW_GAP);

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\
         <title>{}</title>\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>",
        xml(&config.aggregate_type)
    );
    edges(&mut out, config, &placed);
    for (i, state) in config.states.iter().enumerate() {
        let p = &placed[i];
        let marked = current == Some(state.as_str());
        let (fill, stroke, stroke_width) = if marked {
            ("#ffe08a", "#b07d00", 3)
        } else {
            ("#f4f6fa", "#44546a", 1)
        };
        let radius = if *state == config.initial_state {
            18
        } else {
            4
        };
        let _ = write!(
            out,
            "<g data-state=\"{name}\"{current}><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BOX_HEIGHT}\" \
             rx=\"{radius}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"/>\
             <text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\">{name}</text></g>",
            name = xml(state),
            current = if marked { " data-current=\"true\"" } else { "" },
            x = p.x,
            y = p.y,
            w = p.width,
            cx = p.x + p.width / 2.0,
            cy = p.y + BOX_HEIGHT / 2.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Each state's column: its distance from the initial state, states no
/// transition reaches one past the farthest.
fn columns(config: &Config) -> Vec<usize> {
    let index = |name: &str| config.states.iter().position(|s| s == name);
    let mut depth: Vec<Option<usize>> = vec![None; config.states.len()];
    let mut queue = VecDeque::new();
    if let Some(start) = index(&config.initial_state) {
        depth[start] = Some(0);
        queue.push_back(start);
    }
    while let Some(at) = queue.pop_front() {
        let next_depth = depth[at].map_or(0, |d| d + 1);
        for tr in &config.transitions {
            if !tr.from.iter().any(|f| index(f) == Some(at)) {
                continue;
            }
            if let Some(to) = index(&tr.to).filter(|to| depth[*to].is_none()) {
                depth[to] = Some(next_depth);
                queue.push_back(to);
            }
        }
    }
    let last = depth.iter().flatten().max().map_or(0, |d| d + 1);
    depth.into_iter().map(|d| d.unwrap_or(last)).collect()
}

/// One arrow: the commands that lead from one state to another, and their
/// titles (with the guards' names).
struct Arrow {
    from: usize,
    to: usize,
    commands: Vec<String>,
    titles: Vec<String>,
}

/// The transitions as arrows, one per pair of states in the configs'
/// order, each command on it once.
fn arrows(config: &Config) -> Vec<Arrow> {
    let index = |name: &str| config.states.iter().position(|s| s == name);
    let mut arrows: Vec<Arrow> = Vec::new();
    for tr in &config.transitions {
        let Some(to) = index(&tr.to) else { continue };
        let mut title = tr.command.clone();
        if let Some(name) = guard_name(tr) {
            let _ = write!(title, " ({name})");
        }
        for from in tr.from.iter().filter_map(|f| index(f)) {
            let at = match arrows.iter().position(|a| a.from == from && a.to == to) {
                Some(at) => at,
                None => {
                    arrows.push(Arrow {
                        from,
                        to,
                        commands: Vec::new(),
                        titles: Vec::new(),
                    });
                    arrows.len() - 1
                }
            };
            let arrow = &mut arrows[at];
            if !arrow.commands.contains(&tr.command) {
                arrow.commands.push(tr.command.clone());
            }
            if !arrow.titles.contains(&title) {
                arrow.titles.push(title.clone());
            }
        }
    }
    arrows
}

fn edges(out: &mut String, config: &Config, placed: &[Placed]) {
    // Arrows both ways between two states bend apart.
    let arrows = arrows(config);
    for arrow in &arrows {
        let (from, to) = (arrow.from, arrow.to);
        let (a, b) = (&placed[from], &placed[to]);
        let label = arrow.commands.join(", ");
        let title = xml(&arrow.titles.join("; "));
        let (path, lx, ly) = if from == to {
            let x = a.x + a.width / 2.0;
            let top = a.y - 30.0;
            (
                format!(
                    "M{:.1},{:.1} C{:.1},{top:.1} {:.1},{top:.1} {:.1},{:.1}",
                    x - 12.0,
                    a.y,
                    x - 34.0,
                    x + 34.0,
                    x + 12.0,
                    a.y
                ),
                x,
                top + 2.0,
            )
        } else if (a.x + a.width / 2.0 - b.x - b.width / 2.0).abs() < 1.0 {
            // The same column: around its right side.
            let (x1, x2) = (a.x + a.width, b.x + b.width);
            let (y1, y2) = (a.y + BOX_HEIGHT / 2.0, b.y + BOX_HEIGHT / 2.0);
            let reach = 34.0 + 10.0 * ((y2 - y1).abs() / (BOX_HEIGHT + ROW_GAP));
            let cx = x1.max(x2) + reach;
            (
                format!("M{x1:.1},{y1:.1} C{cx:.1},{y1:.1} {cx:.1},{y2:.1} {x2:.1},{y2:.1}"),
                cx - reach / 4.0 + 4.0,
                (y1 + y2) / 2.0 + 4.0,
            )
        } else {
            let forward = b.x > a.x;
            let (x1, x2) = if forward {
                (a.x + a.width, b.x)
            } else {
                (a.x, b.x + b.width)
            };
            let (y1, y2) = (a.y + BOX_HEIGHT / 2.0, b.y + BOX_HEIGHT / 2.0);
            let back = arrows.iter().any(|o| o.from == to && o.to == from);
            // Forward arrows bow up, back ones down: a pair stays apart.
            let bow = match (forward, back) {
                (true, false) => -8.0,
                (true, true) => -22.0,
                (false, _) => 22.0,
            };
            let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            // The curve's middle is halfway to its control point.
            (
                format!(
                    "M{x1:.1},{y1:.1} Q{mx:.1},{:.1} {x2:.1},{y2:.1}",
                    my + 2.0 * bow
                ),
                mx,
                my + bow + if forward { -4.0 } else { 12.0 },
            )
        };
        let width = label.chars().count() as f64 * 6.6 + 6.0;
        let _ = write!(
            out,
            "<g><title>{title}</title><path d=\"{path}\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"15\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>",
            lx - width / 2.0,
            ly - 11.0,
            xml(&label),
        );
    }
}

/// Text as XML character data and attribute content.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::StateMachine;

    fn machine(json: &str) -> StateMachine {
        StateMachine::from_json(json.as_bytes()).expect("a valid config")
    }

    const TRICKY: &str = r#"{
      "aggregateType": "odd<&>",
      "version": 1,
      "initialState": "New",
      "states": ["New", "<script>alert(1)</script>", "Lonely"],
      "transitions": [
        {"command": "Go\"&", "from": ["New"], "to": "<script>alert(1)</script>", "event": "Went"},
        {"command": "Back", "from": ["<script>alert(1)</script>"], "to": "New", "event": "Returned"},
        {"command": "Again", "from": ["New"], "to": "New", "event": "Repeated"}
      ]
    }"#;

    #[test]
    fn every_name_is_escaped_and_nothing_runs() {
        let m = machine(TRICKY);
        let text = svg(m.config(), Some("<script>alert(1)</script>"));
        assert!(!text.contains("<script"), "{text}");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(text.contains("Go&quot;&amp;"));
        assert!(text.contains("<title>odd&lt;&amp;&gt;</title>"));
        assert!(!text.contains("<style"), "no style element: {text}");
        assert_eq!(text.matches("data-current").count(), 1);
    }

    #[test]
    fn the_initial_state_comes_first_and_unreached_states_last() {
        let m = machine(TRICKY);
        assert_eq!(columns(m.config()), vec![0, 1, 2]);
    }

    #[test]
    fn no_state_marked_when_the_state_is_unknown_or_absent() {
        let m = machine(TRICKY);
        assert!(!svg(m.config(), Some("Nope")).contains("data-current"));
        assert!(!svg(m.config(), None).contains("data-current"));
        assert_eq!(svg(m.config(), None), svg(m.config(), None));
    }
}
