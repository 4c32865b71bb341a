//! Languages. Every message a person may read exists in Simplified Chinese and in English, and
//! the request's `Accept-Language` picks one: Chinese unless the header prefers English (most
//! of the people who use Tongxing read Chinese; phones and mini-programs send the header).
//!
//! - [`Lang`]: the language of a request, from `Accept-Language` (q-values honoured, `zh-*`
//!   is Chinese, `en-*` English, anything else or nothing: Chinese).
//! - [`Msg`]: a message in both languages, made with [`msg!`](crate::msg), which takes the English
//!   and the Chinese format strings with shared arguments — so a message cannot exist in one
//!   language only. Its `Display` is the English text, for logs.
//! - Errors keep their message as their source ([`AppError`](crate::error::AppError) or
//!   [`Msg`]) until the response is written, where [`crate::error::finalize_errors`] writes it
//!   in the request's language; `extensions.code` never changes with the language.
//! - Responses written outside GraphQL execution (`AppError` as an HTTP response) read the
//!   request's language from [`Lang::current`], set for each request by [`scope_language`].

use std::{borrow::Cow, fmt};

use axum::{
    extract::Request,
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};

/// A language the API answers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese (`zh-CN`), the default.
    #[default]
    Zh,
    /// English.
    En,
}

tokio::task_local! {
    /// The language of the request being served (see [`scope_language`]).
    static LANG: Lang;
}

/// Most `Accept-Language` entries looked at: a header is a handful, never thousands.
const MAX_ENTRIES: usize = 32;

impl Lang {
    /// The language an `Accept-Language` header asks for: among the entries naming Chinese
    /// (`zh`, `zh-CN`, `zh-TW`, `zh-Hans`, …), English (`en`, `en-US`, …) or anything (`*`,
    /// which we take as Chinese), the one with the highest q-value; on a tie the one listed
    /// first. Entries with `q=0` (not acceptable), malformed ones and other languages are
    /// skipped; when none is left, Chinese.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for entry in header.split(',').take(MAX_ENTRIES) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split(['-', '_']).next().unwrap_or("");
            let lang = if primary.eq_ignore_ascii_case("zh") || tag == "*" {
                Lang::Zh
            } else if primary.eq_ignore_ascii_case("en") {
                Lang::En
            } else {
                continue;
            };
            let mut q = Some(1000);
            for param in parts {
                let (k, v) = param.split_once('=').unwrap_or((param, ""));
                if k.trim().eq_ignore_ascii_case("q") {
                    q = qvalue(v.trim());
                }
            }
            match q {
                Some(q) if q > 0 && best.is_none_or(|(b, _)| q > b) => best = Some((q, lang)),
                _ => {}
            }
        }
        best.map_or(Lang::Zh, |(_, lang)| lang)
    }

    /// The language of a request's headers (Chinese without `Accept-Language`).
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::Zh, Lang::from_accept_language)
    }

    /// The language of the request being served, as [`scope_language`] found it; Chinese
    /// outside a request.
    pub fn current() -> Lang {
        LANG.try_with(|l| *l).unwrap_or_default()
    }

    /// Run `f` with [`Lang::current`] answering `self`.
    pub async fn scope<F: Future>(self, f: F) -> F::Output {
        LANG.scope(self, f).await
    }

    /// The language tag of the answer (`Content-Language`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// A q-value (`1`, `0.8`, `0.125`) in thousandths; `None` when malformed (RFC 9110 §12.4.2).
fn qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{frac:0<3}");
    let thousandths = match int {
        "0" => digits.parse::<u16>().ok()?,
        "1" if digits == "000" => 1000,
        _ => return None,
    };
    Some(thousandths)
}

/// Middleware: the request's language for everything answered while serving it
/// ([`Lang::current`]), and `Vary: Accept-Language` on JSON answers (GraphQL responses and
/// errors), whose messages are in that language: a cache must not give one person's language
/// to another. Files (assets, CSV, PDF) are the same in every language.
pub async fn scope_language(request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let mut response = LANG.scope(lang, next.run(request)).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("application/json") || t.starts_with("application/graphql-response+json")
        });
    if json {
        response.headers_mut().append(
            header::VARY,
            header::HeaderValue::from_static("accept-language"),
        );
    }
    response
}

/// A message in both languages. Made with [`msg!`](crate::msg); shown with [`Msg::get`].
/// `Display` writes the English text (for logs and `Debug`-free tracing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    en: Cow<'static, str>,
    zh: Cow<'static, str>,
}

impl Msg {
    /// Use [`msg!`](crate::msg): from the two formatted texts, without allocating when neither
    /// has arguments.
    #[doc(hidden)]
    pub fn from_args(en: fmt::Arguments<'_>, zh: fmt::Arguments<'_>) -> Msg {
        let text = |a: fmt::Arguments<'_>| match a.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(a.to_string()),
        };
        Msg {
            en: text(en),
            zh: text(zh),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// The text in `lang`, taken out of the message.
    pub fn into_text(self, lang: Lang) -> Cow<'static, str> {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }

    /// The English text.
    pub fn en(&self) -> &str {
        &self.en
    }

    /// The Chinese text.
    pub fn zh(&self) -> &str {
        &self.zh
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// A message in English and Chinese: `msg!("the shift is full", "该班次已满")`, with format
/// arguments shared by both (`msg!("at most {max}", "最多{max}个")`, or positional ones after
/// the two texts). Words that differ by language go in as two variables, each text capturing
/// its own (`msg!("the event is {was}", "该活动{was_zh}")`). The Chinese text must be Chinese:
/// a test reads every `msg!` in the source and checks.
#[macro_export]
macro_rules! msg {
    ($en:literal, $zh:literal $(,)?) => {
        $crate::i18n::Msg::from_args(format_args!($en), format_args!($zh))
    };
    ($en:literal, $zh:literal, $($args:tt)+) => {
        $crate::i18n::Msg::from_args(format_args!($en, $($args)+), format_args!($zh, $($args)+))
    };
}

/// A `ServerError` raised before execution (limits, persisted queries, scopes) with `code`
/// in `extensions.code`, its message in English until [`crate::error::finalize_errors`]
/// writes it in the request's language.
pub fn coded_error(message: Msg, code: &str) -> async_graphql::ServerError {
    let mut err = async_graphql::ServerError::new(message.en(), None);
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    err.source = Some(std::sync::Arc::new(message));
    err
}

/// Whether `text` holds a CJK ideograph (a Chinese text does; an English one copied into
/// the Chinese slot does not).
pub fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        let cases = [
            ("", Lang::Zh),
            ("zh-CN", Lang::Zh),
            ("zh-CN,zh;q=0.9", Lang::Zh),
            ("zh-TW", Lang::Zh),
            ("zh-Hant-HK", Lang::Zh),
            ("zh_CN", Lang::Zh),
            ("ZH-cn", Lang::Zh),
            ("en", Lang::En),
            ("en-US,en;q=0.9", Lang::En),
            ("EN-gb", Lang::En),
            ("en-US,zh-CN", Lang::En),
            ("zh-CN,en-US", Lang::Zh),
            ("zh-CN;q=0.5,en;q=0.8", Lang::En),
            ("en;q=0.5, zh;q=0.51", Lang::Zh),
            ("en;q=0.5, zh;q=0.5", Lang::En),
            ("fr-FR,fr;q=0.9,en;q=0.8", Lang::En),
            ("fr-FR,de", Lang::Zh),
            ("*", Lang::Zh),
            ("en;q=0.2,*;q=0.5", Lang::Zh),
            ("*;q=0.1,en", Lang::En),
            ("zh;q=0,en", Lang::En),
            ("en;q=0", Lang::Zh),
            ("en;q=1.000", Lang::En),
            ("en;q=2,zh;q=0.1", Lang::Zh),
            ("en;q=abc", Lang::Zh),
            ("en;q=0.1234", Lang::Zh),
            ("english", Lang::Zh),
            ("enx-US", Lang::Zh),
            (";;,,;q=,=,", Lang::Zh),
            ("\u{7ba1}\u{7406}", Lang::Zh),
        ];
        for (header, want) in cases {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    #[test]
    fn headers_without_a_usable_accept_language_are_chinese() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::from_headers(&headers), Lang::Zh);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            header::HeaderValue::from_bytes(b"en\xff").unwrap(),
        );
        assert_eq!(Lang::from_headers(&headers), Lang::Zh);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            header::HeaderValue::from_static("en-US,en;q=0.9"),
        );
        assert_eq!(Lang::from_headers(&headers), Lang::En);
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.0"), Some(1000));
        assert_eq!(qvalue("0.8"), Some(800));
        assert_eq!(qvalue("0.125"), Some(125));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("-0.5"), None);
        assert_eq!(qvalue(".5"), None);
        assert_eq!(qvalue(""), None);
    }

    #[tokio::test]
    async fn the_current_language_is_the_scopes() {
        assert_eq!(Lang::current(), Lang::Zh);
        assert_eq!(Lang::En.scope(async { Lang::current() }).await, Lang::En);
    }

    #[test]
    fn messages_share_their_arguments_and_display_in_english() {
        let n = 3;
        let m = msg!("at most {n} aliases", "最多{n}个别名");
        assert_eq!(m.get(Lang::En), "at most 3 aliases");
        assert_eq!(m.get(Lang::Zh), "最多3个别名");
        assert_eq!(m.to_string(), "at most 3 aliases");
        let (was, was_zh) = ("draft", "草稿");
        let m = msg!("the event is {was}", "该活动为{was_zh}");
        assert_eq!((m.en(), m.zh()), ("the event is draft", "该活动为草稿"));
        let m = msg!("{} of {}", "{1}中的{0}", 1, 2);
        assert_eq!((m.en(), m.zh()), ("1 of 2", "2中的1"));
        assert!(matches!(msg!("plain", "纯文本").en, Cow::Borrowed(_)));
    }

    /// The Chinese text of every `msg!` in the source holds Chinese: an English text pasted
    /// into both places compiles, and only this catches it.
    #[test]
    fn every_msg_in_the_source_has_a_chinese_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root];
        let mut checked = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    files.push(entry.unwrap().path());
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for i in code_positions(&source, "msg!(") {
                let args = &source[i + "msg!(".len()..];
                let (en, rest) = string_literal(args)
                    .unwrap_or_else(|| panic!("{}: msg! without an English text", path.display()));
                let rest = rest.trim_start().strip_prefix(',').unwrap_or_else(|| {
                    panic!("{}: msg!({en:?} without a Chinese text", path.display())
                });
                let (zh, _) = string_literal(rest).unwrap_or_else(|| {
                    panic!("{}: msg!({en:?}, …) without a Chinese text", path.display())
                });
                assert!(
                    has_cjk(zh),
                    "{}: the Chinese text of msg!({en:?}) is {zh:?}",
                    path.display()
                );
                assert_ne!(en, zh, "{}", path.display());
                checked += 1;
            }
        }
        assert!(checked > 200, "only {checked} msg! found");
    }

    /// Where `needle` occurs in `source` outside comments and string and char literals.
    fn code_positions(source: &str, needle: &str) -> Vec<usize> {
        let b = source.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let rest = &source[i..];
            if rest.starts_with("//") {
                i += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                i += rest.find("*/").map_or(rest.len(), |n| n + 2);
            } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
                let hashes = rest[1..].bytes().take_while(|&c| c == b'#').count();
                let close = format!("\"{}", "#".repeat(hashes));
                let body = 2 + hashes;
                i += body
                    + rest[body..]
                        .find(&close)
                        .map_or(rest.len() - body, |n| n + close.len());
            } else if b[i] == b'"' {
                i += 1 + string_literal(rest).map_or(rest.len() - 1, |(lit, _)| lit.len() + 1);
            } else if b[i] == b'\'' {
                // A char literal ('"', '\'') or a lifetime ('a).
                if let Some(escaped) = rest.strip_prefix("'\\") {
                    // '\n', '\'', '\u{4e00}': the escaped character, then up to the quote.
                    let first = escaped.chars().next().map_or(0, char::len_utf8);
                    i += 2
                        + first
                        + escaped[first..]
                            .find('\'')
                            .map_or(escaped.len() - first, |n| n + 1);
                } else {
                    let len = rest[1..].chars().next().map_or(0, char::len_utf8);
                    i += if rest[1 + len..].starts_with('\'') {
                        2 + len
                    } else {
                        1
                    };
                }
            } else {
                if rest.starts_with(needle) {
                    found.push(i);
                }
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        found
    }

    /// The string literal at the start of `s` (after whitespace) and what follows it.
    fn string_literal(s: &str) -> Option<(&str, &str)> {
        let s = s.trim_start().strip_prefix('"')?;
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some((&s[..i], &s[i + 1..])),
                _ => {}
            }
        }
        None
    }

    #[test]
    fn cjk_is_recognized() {
        assert!(has_cjk("该班次已满"));
        assert!(has_cjk("API 客户端"));
        assert!(!has_cjk("the shift is full"));
        assert!(!has_cjk("，。！"));
    }
}
