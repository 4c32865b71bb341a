//! Validated account inputs: each newtype can only hold a value that passed its rules.

use crate::error::AppError;

/// A normalized mainland-China mobile number: 11 digits, `1[3-9]`, no country code.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parse a number as a user typed it: spaces and dashes are ignored, and an optional
    /// `+86` / `0086` / `86` country prefix is removed.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let compact: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .collect();
        let national = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| {
                (compact.len() == 13)
                    .then(|| compact.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&compact);
        let bytes = national.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if valid {
            Ok(Self(national.to_owned()))
        } else {
            Err(AppError::bad_input(
                field,
                msg!(
                    "must be a mainland mobile number: 11 digits starting with 1, optionally +86",
                    "请输入中国大陆手机号：以 1 开头的 11 位数字，可带 +86"
                ),
            ))
        }
    }

    /// The normalized number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Personal data: never printed whole by accident.
impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&mask_phone(&self.0))
    }
}

/// Mask a stored phone number for display to someone not entitled to it: `138****1234`.
pub fn mask_phone(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "****".to_owned()
    }
}

/// A password that meets the length rules. Never printed.
pub struct Password(String);

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 8;
    /// Longest accepted password, in characters (bounds the hashing work one request can cause).
    pub const MAX_CHARS: usize = 128;

    /// Check the length rules.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(AppError::bad_input(
                field,
                msg!(
                    "must be at least {} characters",
                    "密码至少 {} 个字符",
                    Self::MIN_CHARS
                ),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(AppError::bad_input(
                field,
                msg!(
                    "must be at most {} characters",
                    "密码最多 {} 个字符",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A display name: trimmed, 1 to 64 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Trim and check.
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let name = raw.trim();
        let n = name.chars().count();
        if n == 0 || n > Self::MAX_CHARS || name.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                field,
                msg!(
                    "must be 1 to {} characters without control characters",
                    "名称须为 1 至 {} 个字，不含控制字符",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_common_spellings() {
        for raw in [
            "13812341234",
            "+8613812341234",
            "+86 138 1234 1234",
            "008613812341234",
            "8613812341234",
            "138-1234-1234",
        ] {
            assert_eq!(
                Phone::parse(raw, "phone").unwrap().as_str(),
                "13812341234",
                "{raw}"
            );
        }
    }

    #[test]
    fn phone_rejects_non_mobile_numbers() {
        for raw in [
            "",
            "1381234123",
            "138123412345",
            "23812341234",
            "12812341234",
            "1381234123a",
            "+1 13812341234",
            "０13812341234",
        ] {
            let err = Phone::parse(raw, "input.phone").unwrap_err();
            assert!(
                matches!(&err, AppError::BadUserInput { field, .. } if field == "input.phone"),
                "{raw}"
            );
        }
    }

    #[test]
    fn phone_is_masked_in_the_middle() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(
            format!("{:?}", Phone::parse("13812341234", "p").unwrap()),
            "138****1234"
        );
    }

    #[test]
    fn password_needs_eight_characters() {
        assert!(Password::parse("short12", "password").is_err());
        assert!(Password::parse("long enough", "password").is_ok());
        // Characters, not bytes: eight CJK characters are enough.
        assert!(Password::parse("志愿同行慈善同心", "password").is_ok());
        assert!(Password::parse(&"x".repeat(129), "password").is_err());
    }

    #[test]
    fn password_never_prints() {
        let p = Password::parse("correct horse", "password").unwrap();
        assert_eq!(format!("{p:?}"), "[redacted]");
    }

    #[test]
    fn display_name_is_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  张阿姨 ", "n").unwrap().into_inner(),
            "张阿姨"
        );
        assert!(DisplayName::parse("   ", "n").is_err());
        assert!(DisplayName::parse("a\u{7}b", "n").is_err());
        assert!(DisplayName::parse(&"名".repeat(65), "n").is_err());
    }
}
