//! A small iCalendar (RFC 5545) writer: content lines with CRLF endings, TEXT values escaped
//! (§3.3.11), and lines folded at 75 octets (§3.1) without ever splitting a UTF-8 character —
//! most of what we write is Chinese, three octets a character.
//!
//! Written here rather than with the `icalendar` crate's builder (0.17, read before choosing):
//! its folding tests for whitespace by *character* index at a *byte* offset, so with Chinese
//! text it looks at the wrong character; it escapes only the properties it knows to be TEXT
//! (not `X-WR-CALNAME`); and it passes carriage returns and other control characters through,
//! which can end a content line early. This writer is short, and its tests pin each rule. The
//! calendar tests read what it writes with that crate's parser, an independent reading.

use chrono::{DateTime, Utc};

/// Longest content line, in octets, before folding (CRLF not counted).
const LINE_OCTETS: usize = 75;

/// An iCalendar object being written.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// `BEGIN:{component}`.
    pub fn begin(&mut self, component: &str) {
        self.raw("BEGIN", component);
    }

    /// `END:{component}`.
    pub fn end(&mut self, component: &str) {
        self.raw("END", component);
    }

    /// A property of type TEXT: `value` is escaped.
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(name, &escape_text(value));
    }

    /// A property whose value is already in its type's syntax (INTEGER, URI, a status word, a
    /// `GEO` pair). Control characters are dropped, so a value can never end the line early.
    pub fn raw(&mut self, name: &str, value: &str) {
        let clean: String = value.chars().filter(|c| !c.is_control()).collect();
        self.line(name, &clean);
    }

    /// A DATE-TIME property in UTC (`19970714T173000Z`).
    pub fn utc(&mut self, name: &str, at: DateTime<Utc>) {
        self.raw(name, &at.format("%Y%m%dT%H%M%SZ").to_string());
    }

    fn line(&mut self, name: &str, value: &str) {
        fold_into(&mut self.out, &format!("{name}:{value}"));
    }

    /// The object as written.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma get a backslash, a
/// line break (`\r\n`, `\n` or `\r`) becomes `\n`; other control characters but tab, which
/// TEXT cannot hold, are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Append `line` to `out` folded (RFC 5545 §3.1): pieces of at most 75 octets, each after the
/// first starting with one space (which counts), cut only between characters; every piece
/// ends with CRLF.
pub fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        out.push_str(piece);
        out.push_str("\r\n ");
        rest = tail;
        // The leading space of a continuation line is one of its 75 octets.
        limit = LINE_OCTETS - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undo folding and escaping as a reader would (RFC 5545 §3.1, §3.3.11).
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n' | 'N') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("a,b;c\\d\ne\r\nf\rg:h\ti"),
            "a\\,b\\;c\\\\d\\ne\\nf\\ng:h\ti"
        );
        assert_eq!(escape_text("铃声\u{7}响\u{0}了"), "铃声响了");
        assert_eq!(escape_text("苏州，姑苏区；十全街"), "苏州，姑苏区；十全街");
        assert_eq!(escape_text(""), "");
    }

    #[test]
    fn short_lines_are_not_folded_and_end_with_crlf() {
        let mut out = String::new();
        fold_into(&mut out, "SUMMARY:助餐");
        assert_eq!(out, "SUMMARY:助餐\r\n");
        let mut exact = String::new();
        let line = format!("X:{}", "a".repeat(73));
        fold_into(&mut exact, &line);
        assert_eq!(exact, format!("{line}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        // Chinese (3 octets), emoji (4), ASCII (1), in a mix that puts character edges at every
        // offset from a fold point.
        for prefix in 0..8 {
            let line = format!(
                "DESCRIPTION:{}{}",
                "x".repeat(prefix),
                "社区助老志愿服务🙂, a;b\\".repeat(20)
            );
            let mut out = String::new();
            fold_into(&mut out, &line);
            assert!(out.ends_with("\r\n"));
            let pieces: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
            assert!(pieces.len() > 5);
            for (i, p) in pieces.iter().enumerate() {
                assert!(p.len() <= 75, "piece {i} has {} octets", p.len());
                assert_eq!(i > 0, p.starts_with(' '), "piece {i}");
                // Nothing wasted: a piece ends early only where the next character would not fit.
                if i + 1 < pieces.len() {
                    let next = pieces[i + 1].chars().nth(1).unwrap();
                    assert!(p.len() + next.len_utf8() > 75, "piece {i} ends early");
                }
            }
            assert_eq!(unfold(&out).trim_end_matches("\r\n"), line);
        }
    }

    #[test]
    fn a_writer_round_trips_text_through_escaping_and_folding() {
        let title = "敬老；助餐,送餐\\配餐\n第二行".repeat(6);
        let mut w = Writer::new();
        w.begin("VEVENT");
        w.text("SUMMARY", &title);
        w.raw("SEQUENCE", "12\r\n");
        w.utc(
            "DTSTART",
            DateTime::parse_from_rfc3339("2026-12-09T01:30:05Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        w.end("VEVENT");
        let unfolded = unfold(&w.finish());
        let lines: Vec<&str> = unfolded.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines[0], "BEGIN:VEVENT");
        assert_eq!(unescape(lines[1].strip_prefix("SUMMARY:").unwrap()), title);
        assert_eq!(lines[2], "SEQUENCE:12");
        assert_eq!(lines[3], "DTSTART:20261209T013005Z");
        assert_eq!(lines[4], "END:VEVENT");
        assert_eq!(lines.len(), 5);
    }
}
