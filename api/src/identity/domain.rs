//! ID document rules: which documents, how their numbers look, checksums and masking.

use chrono::{Datelike, NaiveDate};

use crate::{error::AppError, i18n::Msg};

pub use entity::identity::IdType;

/// Every kind of document, for tests that go through them all.
#[cfg(test)]
const ALL: [IdType; 5] = [
    IdType::MainlandId,
    IdType::HongKongMacaoPermit,
    IdType::TaiwanPermit,
    IdType::Passport,
    IdType::ForeignPermanentResident,
];

/// The document's name as printed on certificates.
pub fn label_zh(kind: IdType) -> &'static str {
    match kind {
        IdType::MainlandId => "居民身份证",
        IdType::HongKongMacaoPermit => "港澳居民来往内地通行证",
        IdType::TaiwanPermit => "台湾居民来往大陆通行证",
        IdType::Passport => "护照",
        IdType::ForeignPermanentResident => "外国人永久居留身份证",
    }
}

/// Province-level codes that may open a mainland ID number (GB/T 2260).
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// The check character of the first 17 digits of an 18-character ID number (GB 11643,
/// ISO 7064 MOD 11-2).
pub fn check_char(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK[(sum % 11) as usize])
}

/// Whether `n` (upper case, 18 characters) passes the MOD 11-2 checksum.
fn checksum_ok(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && char::from(b[17]) == check_char(&b[..17])
}

/// Validate and normalize an ID number of `kind` (spaces removed, letters upper-cased).
/// `today` bounds a mainland card's date of birth.
pub fn normalize_id_number(kind: IdType, raw: &str, today: NaiveDate) -> Result<String, AppError> {
    let field = "input.idNumber";
    let n: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let bad = |what: Msg| Err(AppError::bad_input(field, what));
    // Every document number is ASCII; checking first also makes the byte slicing below safe
    // (a full-width digit would otherwise split a character).
    if n.is_empty() || n.len() > 32 || !n.is_ascii() {
        return bad(msg!(
            "use the letters and digits printed on the document (half-width)",
            "请按证件上印的字母和数字填写（半角）"
        ));
    }
    match kind {
        IdType::MainlandId => {
            if n.len() != 18 || !digits(&n[..17]) || !(digits(&n[17..]) || &n[17..] == "X") {
                return bad(msg!(
                    "a mainland ID number has 17 digits and a digit or X",
                    "居民身份证号码为 17 位数字加 1 位数字或 X"
                ));
            }
            if !PROVINCES.contains(&&n[..2]) {
                return bad(msg!(
                    "the ID number does not start with a province code",
                    "身份证号码开头不是有效的省份代码"
                ));
            }
            let birth = NaiveDate::parse_from_str(&n[6..14], "%Y%m%d")
                .ok()
                .filter(|d| d.year() >= 1900 && *d <= today);
            if birth.is_none() {
                return bad(msg!(
                    "the ID number's date of birth is not a real date",
                    "身份证号码中的出生日期无效"
                ));
            }
            if !checksum_ok(&n) {
                return bad(msg!(
                    "the ID number's check digit does not match; please check it",
                    "身份证号码校验位不符，请核对"
                ));
            }
        }
        IdType::HongKongMacaoPermit => {
            let ok = (n.starts_with('H') || n.starts_with('M'))
                && digits(&n[1..])
                && matches!(n.len(), 9 | 11);
            if !ok {
                return bad(msg!(
                    "a Hong Kong or Macao permit number is H or M and 8 or 10 digits",
                    "港澳居民来往内地通行证号码为 H 或 M 加 8 位或 10 位数字"
                ));
            }
        }
        IdType::TaiwanPermit => {
            if !(digits(&n) && matches!(n.len(), 8 | 10)) {
                return bad(msg!(
                    "a Taiwan permit number has 8 or 10 digits",
                    "台湾居民来往大陆通行证号码为 8 位或 10 位数字"
                ));
            }
        }
        IdType::Passport => {
            if !(5..=17).contains(&n.len()) || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return bad(msg!(
                    "a passport number has 5 to 17 letters and digits",
                    "护照号码为 5 至 17 位字母和数字"
                ));
            }
        }
        IdType::ForeignPermanentResident => {
            // The 2017 card: 3 letters and 12 digits; the 2023 card: 18 characters starting
            // with 9, with the same checksum as a mainland card.
            let old = n.len() == 15
                && n.as_bytes()[..3].iter().all(u8::is_ascii_uppercase)
                && digits(&n[3..]);
            let new = n.len() == 18 && n.starts_with('9') && checksum_ok(&n);
            if !(old || new) {
                return bad(msg!(
                    "not a valid permanent residence ID number",
                    "不是有效的外国人永久居留身份证号码"
                ));
            }
        }
    }
    Ok(n)
}

/// The number as anyone sees it: the first 3 and last 4 characters of a long number (the first
/// and last 2 of a short one), the rest starred — `320***********123X`.
pub fn mask_id_number(n: &str) -> String {
    let chars: Vec<char> = n.chars().collect();
    let (head, tail) = if chars.len() >= 12 { (3, 4) } else { (1, 2) };
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// A legal name: trimmed, 1–50 characters, letters with the separators names use
/// (`·` in minority names, spaces and hyphens in foreign ones).
pub fn legal_name(raw: &str) -> Result<String, AppError> {
    let n = raw.trim();
    let count = n.chars().count();
    let ok = (1..=50).contains(&count)
        && n.chars()
            .all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | ' ' | '-' | '.' | '\''));
    if !ok {
        return Err(AppError::bad_input(
            "input.legalName",
            msg!(
                "must be 1 to 50 letters as on the ID document",
                "姓名须与证件一致，1 至 50 个字"
            ),
        ));
    }
    Ok(n.to_owned())
}

/// A name as the public sees it on a verified certificate: the first character, the rest
/// starred (`李*`, `欧阳**`) — enough to compare with the paper, not to learn a name.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.filter(|c| !c.is_whitespace()).count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    /// Build a valid mainland number from its first 17 digits.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17.as_bytes()))
    }

    #[test]
    fn mainland_checksum_is_iso_7064() {
        // The standard's own example.
        assert_eq!(check_char(b"11010519491231002"), 'X');
        let id = with_check("32058319900307123");
        assert_eq!(
            normalize_id_number(IdType::MainlandId, &id.to_lowercase(), today()).unwrap(),
            id
        );
        assert_eq!(
            normalize_id_number(IdType::MainlandId, "110105 19491231 002x", today()).unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn mainland_numbers_with_any_flaw_are_refused() {
        let good = with_check("32058319900307123");
        let mut wrong_check = good.clone();
        let last = wrong_check.pop().unwrap();
        wrong_check.push(if last == '0' { '1' } else { '0' });
        for bad in [
            wrong_check,
            good[..17].to_owned(),
            format!("{good}1"),
            with_check("99058319900307123"), // no such province
            with_check("32058319901307123"), // month 13
            with_check("32058320990307123"), // born in the future
            "3205831990030712AB".to_owned(),
        ] {
            assert!(
                normalize_id_number(IdType::MainlandId, &bad, today()).is_err(),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn full_width_and_other_non_ascii_input_is_refused_not_a_panic() {
        for raw in [
            "110105194912310Ｘ",
            "１２３４５６７８９０１２３４５６",
            "11010519491231002✓",
            "",
        ] {
            for kind in ALL {
                assert!(normalize_id_number(kind, raw, today()).is_err(), "{raw}");
            }
        }
    }

    #[test]
    fn other_documents_have_their_shapes() {
        let ok = |t, n: &str| normalize_id_number(t, n, today()).is_ok();
        assert!(ok(IdType::HongKongMacaoPermit, "h12345678"));
        assert!(!ok(IdType::HongKongMacaoPermit, "X12345678"));
        assert!(ok(IdType::TaiwanPermit, "12345678"));
        assert!(!ok(IdType::TaiwanPermit, "1234567"));
        assert!(ok(IdType::Passport, "E12345678"));
        assert!(!ok(IdType::Passport, "E123-45678"));
        assert!(ok(IdType::ForeignPermanentResident, "USA110079123456"));
        assert!(ok(
            IdType::ForeignPermanentResident,
            &with_check("93011019900307123")
        ));
        assert!(!ok(
            IdType::ForeignPermanentResident,
            &with_check("32058319900307123")
        ));
    }

    #[test]
    fn masks_hide_the_middle() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number("E12345678"), "E******78");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_name("李明"), "李*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
    }

    #[test]
    fn legal_names_allow_the_separators_names_use() {
        assert_eq!(legal_name(" 李明 ").unwrap(), "李明");
        assert!(legal_name("买买提·艾力").is_ok());
        assert!(legal_name("Anna-Lena O'Brien").is_ok());
        assert!(legal_name("").is_err());
        assert!(legal_name("李明1").is_err());
        assert!(legal_name(&"李".repeat(51)).is_err());
    }
}
