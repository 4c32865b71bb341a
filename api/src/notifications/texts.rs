//! What a notification says: its headline in both languages (the app shows it in the reader's
//! language), and the Chinese texts pushed by SMS and mini-program messages.

use chrono::{DateTime, Utc};
use entity::notification::NotificationKind;
use serde_json::{Value, json};

use crate::{clock::city_offset, i18n::Msg};

/// The headline of a notification of `kind`, in both languages.
pub fn headline(kind: NotificationKind) -> Msg {
    use NotificationKind as K;
    match kind {
        K::SignedUp => msg!("You have a place on the shift", "报名成功，您已获得名额"),
        K::Waitlisted => msg!(
            "You are on the shift's waitlist",
            "您已进入候补名单，有空位时将自动转正"
        ),
        K::Promoted => msg!(
            "A place came free: you are on the shift now",
            "候补转正：您已获得该班次的名额"
        ),
        K::SignupCancelled => msg!(
            "The organizers cancelled your sign-up",
            "组织者取消了您的报名"
        ),
        K::ShiftCancelled => msg!(
            "The shift you signed up for was cancelled",
            "您报名的班次已取消"
        ),
        K::ShiftChanged => msg!(
            "The time or place of your shift changed",
            "您报名的班次时间或地点有变"
        ),
        K::ShiftReminder => msg!("Your shift starts soon", "您报名的班次即将开始"),
        K::CheckoutMissing => msg!(
            "Check out, or your hours will be closed at the shift's end",
            "请签退，否则将按班次结束时间结算时长"
        ),
        K::HelpOffered => msg!("Someone nearby needs your help", "附近有人需要您的帮助"),
        K::HelpWithdrawn => msg!(
            "The help request offered to you is no longer open",
            "派给您的求助已撤回"
        ),
        K::RecordApproved => msg!("Your service hours were approved", "您的服务时长已审核通过"),
        K::RecordRejected => msg!(
            "Your service hours were not approved",
            "您的服务时长未通过审核"
        ),
        K::RecordCorrected => msg!("Your service hours were corrected", "您的服务时长已更正"),
        K::CertificateIssued => msg!(
            "A service certificate was issued to you",
            "您的志愿服务证明已开具"
        ),
        K::WishClaimLapsing => msg!(
            "Your micro-wish claim lapses soon: fulfil it or let it go",
            "您认领的微心愿即将到期，请尽快完成或放弃"
        ),
        K::Invited => msg!(
            "You were invited to join an organization",
            "您收到了加入组织的邀请"
        ),
        K::RecordsAwaitingReview => msg!(
            "Service records are waiting for your review",
            "有志愿服务记录等待您审核"
        ),
        K::CareAlert => msg!(
            "A care visit found something to look into",
            "关爱探访发现异常，请及时处理"
        ),
        K::CareVisitOverdue => msg!(
            "A care call or visit of yours is past its day",
            "您负责的关爱探访已逾期"
        ),
        K::CareTasksOverdue => msg!(
            "Care visits at your station are past their day",
            "本站有关爱探访已逾期"
        ),
    }
}

/// What a push message names besides its headline: the event (or other subject) and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    /// The event and shift, or what else it is about.
    pub title: Option<String>,
    /// When the shift starts.
    pub at: Option<DateTime<Utc>>,
}

/// `s` cut to `n` characters (mini-program `thing` fields take 20), with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// A moment as the city reads it: `12月7日 09:00`.
fn city_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&city_offset())
        .format("%-m月%-d日 %H:%M")
        .to_string()
}

/// The whole text of an SMS (what the `file:` sender writes, and what the template renders).
pub fn sms_text(kind: NotificationKind, d: &Detail) -> String {
    let mut text = format!("【同行】{}", headline(kind).zh());
    if let Some(title) = &d.title {
        text.push_str(&format!("：{}", cut(title, 30)));
    }
    if let Some(at) = d.at {
        text.push_str(&format!("，{}", city_time(at)));
    }
    text.push_str("。详情请打开同行查看。");
    text
}

/// The parameters of an SMS notice template: `title` and `time`.
pub fn sms_params(d: &Detail) -> Value {
    json!({
        "title": cut(d.title.as_deref().unwrap_or("同行"), 30),
        "time": d.at.map(city_time).unwrap_or_default(),
    })
}

/// The `data` of a subscribe message: `thing1` what, `time2` when, `thing3` what happened.
pub fn wechat_data(kind: NotificationKind, d: &Detail, now: DateTime<Utc>) -> Value {
    let at = d.at.unwrap_or(now).with_timezone(&city_offset());
    json!({
        "thing1": { "value": cut(d.title.as_deref().unwrap_or("同行志愿"), 20) },
        "time2": { "value": at.format("%Y年%m月%d日 %H:%M").to_string() },
        "thing3": { "value": cut(headline(kind).zh(), 20) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn every_kind_has_a_headline_short_enough_for_a_message() {
        for kind in NotificationKind::iter() {
            let h = headline(kind);
            assert!(!h.en().is_empty() && !h.zh().is_empty());
        }
    }

    #[test]
    fn texts_name_the_event_and_city_time() {
        let d = Detail {
            title: Some("敬老院陪伴 · 上午班".into()),
            at: Some("2026-12-07T01:00:00Z".parse().unwrap()),
        };
        assert_eq!(
            sms_text(NotificationKind::Promoted, &d),
            "【同行】候补转正：您已获得该班次的名额：敬老院陪伴 · 上午班，12月7日 09:00。详情请打开同行查看。"
        );
        assert_eq!(
            sms_params(&d),
            json!({ "title": "敬老院陪伴 · 上午班", "time": "12月7日 09:00" })
        );
        let data = wechat_data(NotificationKind::ShiftCancelled, &d, Utc::now());
        assert_eq!(data["time2"]["value"], "2026年12月07日 09:00");
        assert_eq!(data["thing3"]["value"], "您报名的班次已取消");
        let long = Detail {
            title: Some("一".repeat(40)),
            at: None,
        };
        let data = wechat_data(NotificationKind::Invited, &long, Utc::now());
        assert_eq!(
            data["thing1"]["value"].as_str().unwrap().chars().count(),
            20
        );
    }
}
