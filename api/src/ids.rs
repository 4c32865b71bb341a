//! Opaque global IDs (Relay's `Node.id`) and connection cursors.
//!
//! A global ID is base64url of `Type:key`; decoding names the type it expects, so an ID of one
//! type handed where another is expected is rejected instead of silently reading another table.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// The types that have global IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// An account.
    Account,
    /// An organization.
    Organization,
    /// A membership.
    Membership,
    /// A campaign.
    Campaign,
    /// A charity event.
    CharityEvent,
    /// A shift.
    Shift,
    /// A sign-up.
    Signup,
    /// A service record.
    ServiceRecord,
    /// A charity fund.
    CharityFund,
    /// A donation.
    Donation,
    /// A disbursement from a fund.
    Disbursement,
    /// A micro-wish.
    MicroWish,
    /// A help request.
    HelpRequest,
    /// A help request offered to a volunteer.
    HelpOffer,
    /// A venue tablet's kiosk credential.
    KioskCredential,
    /// A role offered to a phone number.
    Invitation,
    /// A notification to a person.
    Notification,
    /// One channel's delivery of a notification (dead letters).
    NotificationDelivery,
    /// A social worker's assignment to a station.
    StaffAssignment,
    /// A volunteer squad.
    Squad,
    /// A service project.
    ServiceProject,
    /// A service project's deliverable.
    ProjectDeliverable,
    /// An evaluator's review of a project.
    ProjectReview,
    /// A service on a station's list.
    StationService,
    /// A need on a community's list.
    CommunityNeed,
    /// A resource on a community's list.
    CommunityResource,
    /// A person on the register of people served.
    CareRecipient,
    /// A consent on that register.
    CareConsent,
    /// A task of a care plan.
    CareTask,
    /// A visit logged against a care task.
    CareVisit,
    /// A topic residents deliberate.
    Topic,
}

impl NodeType {
    const ALL: [NodeType; 31] = [
        Self::Account,
        Self::Organization,
        Self::Membership,
        Self::Campaign,
        Self::CharityEvent,
        Self::Shift,
        Self::Signup,
        Self::ServiceRecord,
        Self::CharityFund,
        Self::Donation,
        Self::Disbursement,
        Self::MicroWish,
        Self::HelpRequest,
        Self::HelpOffer,
        Self::KioskCredential,
        Self::Invitation,
        Self::Notification,
        Self::NotificationDelivery,
        Self::StaffAssignment,
        Self::Squad,
        Self::ServiceProject,
        Self::ProjectDeliverable,
        Self::ProjectReview,
        Self::StationService,
        Self::CommunityNeed,
        Self::CommunityResource,
        Self::CareRecipient,
        Self::CareConsent,
        Self::CareTask,
        Self::CareVisit,
        Self::Topic,
    ];

    fn tag(self) -> &'static str {
        match self {
            Self::Account => "Account",
            Self::Organization => "Organization",
            Self::Membership => "Membership",
            Self::Campaign => "Campaign",
            Self::CharityEvent => "CharityEvent",
            Self::Shift => "Shift",
            Self::Signup => "Signup",
            Self::ServiceRecord => "ServiceRecord",
            Self::CharityFund => "CharityFund",
            Self::Donation => "Donation",
            Self::Disbursement => "Disbursement",
            Self::MicroWish => "MicroWish",
            Self::HelpRequest => "HelpRequest",
            Self::HelpOffer => "HelpOffer",
            Self::KioskCredential => "KioskCredential",
            Self::Invitation => "Invitation",
            Self::Notification => "Notification",
            Self::NotificationDelivery => "NotificationDelivery",
            Self::StaffAssignment => "StaffAssignment",
            Self::Squad => "Squad",
            Self::ServiceProject => "ServiceProject",
            Self::ProjectDeliverable => "ProjectDeliverable",
            Self::ProjectReview => "ProjectReview",
            Self::StationService => "StationService",
            Self::CommunityNeed => "CommunityNeed",
            Self::CommunityResource => "CommunityResource",
            Self::CareRecipient => "CareRecipient",
            Self::CareConsent => "CareConsent",
            Self::CareTask => "CareTask",
            Self::CareVisit => "CareVisit",
            Self::Topic => "Topic",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.tag() == tag)
    }
}

/// Encode the global ID of a row.
pub fn encode(ty: NodeType, key: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", ty.tag())))
}

/// Decode any global ID into its type and key.
pub fn decode_any(id: &str) -> Option<(NodeType, i64)> {
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (tag, key_text) = text.split_once(':')?;
    let key: i64 = key_text.parse().ok()?;
    // Only the canonical form decodes, so one row has exactly one ID.
    if key <= 0 || key.to_string() != key_text {
        return None;
    }
    Some((NodeType::from_tag(tag)?, key))
}

/// Decode a global ID that must be of type `ty`; `field` names the argument for the error.
pub fn decode(ty: NodeType, id: &ID, field: &str) -> Result<i64, AppError> {
    match decode_any(id) {
        Some((t, key)) if t == ty => Ok(key),
        _ => Err(AppError::bad_input(
            field,
            msg!("not a valid {} ID", "不是有效的 {} ID", ty.tag()),
        )),
    }
}

/// Encode a cursor over a keyset position (the row key of the last edge).
pub fn encode_cursor(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{key}"))
}

/// Decode a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<i64, AppError> {
    let bad = || AppError::bad_input("after", msg!("not a valid cursor", "分页游标无效"));
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    text.strip_prefix("cursor:")
        .and_then(|k| k.parse().ok())
        .ok_or_else(bad)
}

/// Encode a cursor over a (time, key) keyset position.
///
/// The time keeps every digit the database stored (nanoseconds: SQLite keeps what chrono
/// wrote), so the next page starts exactly after the row, even among rows a millisecond apart.
pub fn encode_time_cursor(at: chrono::DateTime<chrono::Utc>, key: i64) -> String {
    match at.timestamp_nanos_opt() {
        Some(nanos) => URL_SAFE_NO_PAD.encode(format!("tn:{nanos}:{key}")),
        None => URL_SAFE_NO_PAD.encode(format!("tcursor:{}:{key}", at.timestamp_micros())),
    }
}

/// Decode a cursor made by [`encode_time_cursor`].
pub fn decode_time_cursor(cursor: &str) -> Result<(chrono::DateTime<chrono::Utc>, i64), AppError> {
    let bad = || AppError::bad_input("after", msg!("not a valid cursor", "分页游标无效"));
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    // `tn:` carries nanoseconds; `tcursor:` microseconds (times beyond what nanoseconds in an
    // i64 hold, 1677–2262, and cursors handed out before).
    let (nanos, rest) = match text.strip_prefix("tn:") {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix("tcursor:").ok_or_else(bad)?),
    };
    let (time, key) = rest.split_once(':').ok_or_else(bad)?;
    let time: i64 = time.parse().map_err(|_| bad())?;
    let key: i64 = key.parse().map_err(|_| bad())?;
    let at = if nanos {
        chrono::DateTime::from_timestamp_nanos(time)
    } else {
        chrono::DateTime::from_timestamp_micros(time).ok_or_else(bad)?
    };
    Ok((at, key))
}

/// Encode a cursor over a position in a ranked list (distance order).
pub fn encode_offset_cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("ocursor:{offset}"))
}

/// Decode a cursor made by [`encode_offset_cursor`].
pub fn decode_offset_cursor(cursor: &str) -> Result<u64, AppError> {
    let bad = || AppError::bad_input("after", msg!("not a valid cursor", "分页游标无效"));
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    text.strip_prefix("ocursor:")
        .and_then(|k| k.parse().ok())
        .ok_or_else(bad)
}

/// A fresh document number such as `TXC-2026-K8M3-ZQ7P-4W9D`: a prefix, the year and 60
/// random bits in Crockford's base-32 (no I, L, O, U), so numbers cannot be guessed or misread.
pub fn random_number(prefix: &str, year: i32) -> String {
    use rand::RngCore;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bits = rand::rng().next_u64();
    let mut out = format!("{prefix}-{year}");
    for i in 0..12 {
        if i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_id_round_trips() {
        let id = encode(NodeType::Organization, 42);
        assert_eq!(decode(NodeType::Organization, &id, "id").unwrap(), 42);
        assert_eq!(decode_any(&id), Some((NodeType::Organization, 42)));
    }

    #[test]
    fn global_id_is_opaque() {
        let id = encode(NodeType::Account, 7);
        assert!(!id.contains("Account"));
    }

    #[test]
    fn id_of_another_type_is_rejected() {
        let account = encode(NodeType::Account, 42);
        let err = decode(NodeType::Organization, &account, "organizationId").unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "!!!",
            "T3JnYW5pemF0aW9u", // "Organization"
            &URL_SAFE_NO_PAD.encode("Organization:abc"),
            &URL_SAFE_NO_PAD.encode("Organization:-1"),
            &URL_SAFE_NO_PAD.encode("Organization:007"),
            &URL_SAFE_NO_PAD.encode("Payment:1"),
        ] {
            assert!(decode_any(bad).is_none(), "{bad} should not decode");
        }
    }

    #[test]
    fn time_and_offset_cursors_round_trip() {
        let at = chrono::DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap();
        assert_eq!(
            decode_time_cursor(&encode_time_cursor(at, 7)).unwrap(),
            (at, 7)
        );
        assert_eq!(decode_offset_cursor(&encode_offset_cursor(40)).unwrap(), 40);
        assert!(decode_offset_cursor(&encode_time_cursor(at, 7)).is_err());
        assert!(decode_time_cursor(&encode_cursor(3)).is_err());
        // Every digit of a row's time survives (a `Utc::now()` has nanoseconds).
        let now = chrono::DateTime::from_timestamp_nanos(1_800_000_000_123_456_789);
        assert_eq!(
            decode_time_cursor(&encode_time_cursor(now, 8)).unwrap(),
            (now, 8)
        );
        // Far from now (a typo's year 20260) there are no i64 nanoseconds: microseconds.
        let far = chrono::DateTime::from_timestamp(571_000_000_000, 123_456_000).unwrap();
        assert_eq!(
            decode_time_cursor(&encode_time_cursor(far, 9)).unwrap(),
            (far, 9)
        );
        // A cursor handed out before (microseconds) still reads.
        let old = URL_SAFE_NO_PAD.encode("tcursor:1800000000123456:7");
        assert_eq!(decode_time_cursor(&old).unwrap(), (at, 7));
    }

    #[test]
    fn cursor_round_trips_and_rejects_ids() {
        assert_eq!(decode_cursor(&encode_cursor(99)).unwrap(), 99);
        assert!(decode_cursor(&encode(NodeType::Account, 1)).is_err());
    }
}
