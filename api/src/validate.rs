//! Checks shared by many inputs: titles, free text, URLs, time windows, skills.

use chrono::{DateTime, Utc};

use crate::error::AppError;

/// A one-line title: trimmed, 1 to `max` characters, no control characters.
/// The longest text a `search` filter takes: it becomes a `LIKE` pattern over names and titles,
/// and no name is longer.
pub const MAX_SEARCH_CHARS: usize = 50;

/// A `search` filter: trimmed, `None` when empty, `BAD_USER_INPUT` past [`MAX_SEARCH_CHARS`].
pub fn search(raw: Option<String>, field: &str) -> Result<Option<String>, AppError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let s = raw.trim();
    if s.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            msg!("search for text on one line", "搜索内容不能包含控制字符"),
        ));
    }
    if s.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::bad_input(
            field,
            msg!(
                "search for at most {MAX_SEARCH_CHARS} characters",
                "搜索词最多 {MAX_SEARCH_CHARS} 个字"
            ),
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

pub fn title(raw: &str, field: &str, max: usize) -> Result<String, AppError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            msg!(
                "must be 1 to {max} characters on one line",
                "须为 1 至 {max} 个字，且不能换行"
            ),
        ));
    }
    Ok(t.to_owned())
}

/// Free text: at most `max` characters; line breaks allowed, other control characters not.
pub fn text(raw: &str, field: &str, max: usize) -> Result<String, AppError> {
    let t = raw.trim();
    if t.chars().count() > max || t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::bad_input(
            field,
            msg!("must be at most {max} characters", "最多 {max} 个字"),
        ));
    }
    Ok(t.to_owned())
}

/// An `https://` (or `http://`) URL of at most 512 characters.
pub fn url(raw: &str, field: &str) -> Result<String, AppError> {
    let u = raw.trim();
    let ok = (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() <= 512
        && u.len() > 8
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(u.to_owned())
    } else {
        Err(AppError::bad_input(
            field,
            msg!(
                "must be an http(s) URL of at most 512 characters",
                "须为 http(s) 网址，最长 512 个字符"
            ),
        ))
    }
}

/// `ends_at` must be after `starts_at`.
pub fn window(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    field: &str,
) -> Result<(), AppError> {
    if ends_at > starts_at {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            msg!("must be after startsAt", "结束时间须晚于开始时间"),
        ))
    }
}

/// Most skills on one profile or shift.
pub const MAX_SKILLS: usize = 20;

/// Normalize a list of skills: trimmed, lower-case, 1–32 characters without quotes or
/// backslashes, de-duplicated, sorted.
pub fn skills(raw: &[String], field: &str) -> Result<Vec<String>, AppError> {
    if raw.len() > MAX_SKILLS {
        return Err(AppError::bad_input(
            field,
            msg!("at most {MAX_SKILLS} skills", "最多 {MAX_SKILLS} 项技能"),
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let skill = s.trim().to_lowercase();
        let n = skill.chars().count();
        if n == 0
            || n > 32
            || skill
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\' || c == '%' || c == '_')
        {
            return Err(AppError::bad_input(
                field,
                msg!(
                    "each skill is 1 to 32 characters, without quotes, backslashes, % or _",
                    "每项技能 1 至 32 个字，不能含引号、反斜杠、% 或 _"
                ),
            ));
        }
        out.push(skill);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Store a skill list as a JSON array (text, the same on SQLite and PostgreSQL).
pub fn skills_to_db(skills: &[String]) -> String {
    serde_json::to_string(skills).unwrap_or_else(|_| "[]".to_owned())
}

/// Read a stored skill list.
pub fn skills_from_db(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// A `LIKE` pattern matching stored skill lists that contain `skill` (already normalized, so it
/// holds no LIKE wildcards or quotes).
pub fn skill_like_pattern(skill: &str) -> String {
    format!("%{}%", serde_json::to_string(skill).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_normalized() {
        let s = skills(
            &["  First Aid ".into(), "cooking".into(), "first aid".into()],
            "s",
        )
        .unwrap();
        assert_eq!(s, vec!["cooking", "first aid"]);
        assert!(skills(&["a\"b".into()], "s").is_err());
        assert!(skills(&["".into()], "s").is_err());
        assert!(skills(&["100%".into()], "s").is_err());
        assert_eq!(skills_from_db(&skills_to_db(&s)), s);
        assert_eq!(skill_like_pattern("cooking"), "%\"cooking\"%");
    }

    #[test]
    fn titles_and_windows() {
        assert_eq!(title("  敬老助餐 ", "t", 100).unwrap(), "敬老助餐");
        assert!(title("", "t", 100).is_err());
        assert!(title("a\nb", "t", 100).is_err());
        let t0 = Utc::now();
        assert!(window(t0, t0, "endsAt").is_err());
        assert!(window(t0, t0 + chrono::Duration::hours(1), "endsAt").is_ok());
        assert!(url("javascript:alert(1)", "u").is_err());
        assert!(url("https://img.example.cn/a.png", "u").is_ok());
    }
}
