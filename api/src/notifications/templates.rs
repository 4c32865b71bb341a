//! Which provider template carries which kind of notification: `KIND=TEMPLATE,…` from the
//! configuration (`TONGXING_SMS_NOTICE_TEMPLATES`, `TONGXING_WECHAT_TEMPLATES`).

use std::collections::HashMap;

use entity::notification::NotificationKind;
use sea_orm::{ActiveEnum, Iterable};

/// Template ids by notification kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Templates(HashMap<NotificationKind, String>);

impl Templates {
    /// Parse `KIND=TEMPLATE,…` (`None` or blank: none). `setting` names the setting in errors.
    pub fn parse(spec: Option<&str>, setting: &str) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        for part in spec.unwrap_or("").split(',').map(str::trim) {
            if part.is_empty() {
                continue;
            }
            let (kind, template) = part
                .split_once('=')
                .map(|(k, t)| (k.trim(), t.trim()))
                .ok_or_else(|| anyhow::anyhow!("{setting}: `{part}` is not KIND=TEMPLATE"))?;
            let kind = NotificationKind::iter()
                .find(|k| k.to_value() == kind)
                .ok_or_else(|| anyhow::anyhow!("{setting}: `{kind}` is not a notification kind"))?;
            anyhow::ensure!(
                !template.is_empty()
                    && template.len() <= 128
                    && template
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
                "{setting}: the template of {} must be 1 to 128 letters, digits, - or _",
                kind.to_value()
            );
            anyhow::ensure!(
                map.insert(kind, template.to_owned()).is_none(),
                "{setting}: {} is listed twice",
                kind.to_value()
            );
        }
        Ok(Self(map))
    }

    /// The template of `kind`, if one is configured.
    pub fn of(&self, kind: NotificationKind) -> Option<&str> {
        self.0.get(&kind).map(String::as_str)
    }

    /// Whether `template` is one of ours.
    pub fn knows(&self, template: &str) -> bool {
        self.0.values().any(|t| t == template)
    }

    /// No template at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_and_templates() {
        let t = Templates::parse(Some(" PROMOTED=SMS_1, SHIFT_CANCELLED=SMS_2 ,"), "X").unwrap();
        assert_eq!(t.of(NotificationKind::Promoted), Some("SMS_1"));
        assert_eq!(t.of(NotificationKind::ShiftCancelled), Some("SMS_2"));
        assert_eq!(t.of(NotificationKind::SignedUp), None);
        assert!(t.knows("SMS_2") && !t.knows("SMS_3"));
        assert!(Templates::parse(None, "X").unwrap().is_empty());
        for bad in [
            "PROMOTED",
            "NOPE=1",
            "PROMOTED=",
            "PROMOTED=a b",
            "PROMOTED=1,PROMOTED=2",
        ] {
            assert!(Templates::parse(Some(bad), "X").is_err(), "{bad}");
        }
    }
}
