//! Rotating check-in codes bound to a shift.
//!
//! Time is cut into windows of `TONGXING_CHECKIN_CODE_SECS` (30 s by default). For window `w` of shift `s` the server derives, with
//! HMAC-SHA256 under a key of its own (derived from the server secret, so replicas that share
//! the JWT key agree), a QR payload `TX1.<base64url(s, w, mac)>` and a 6-digit fallback PIN. A
//! code is accepted during its window and the next one — at most 60 seconds by default — so a
//! photo of yesterday's QR code is worthless and the kiosk refreshes twice a minute. Nothing is
//! stored.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Default length of one code window, in seconds.
pub const WINDOW_SECS: i64 = 30;
/// Bytes of MAC kept in a QR payload (128 bits).
const MAC_BYTES: usize = 16;
const QR_PREFIX: &str = "TX1.";

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Not a code this server made (malformed or forged).
    Invalid,
    /// A genuine code of another shift.
    WrongShift,
    /// A genuine code whose time is over (or not yet come).
    Expired,
}

/// A freshly issued code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// What the kiosk shows as a QR image.
    pub qr_payload: String,
    /// Six digits for people without a camera.
    pub pin: String,
    /// When the next code replaces this one on the kiosk.
    pub refresh_at: DateTime<Utc>,
    /// When this code stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Issues and checks check-in codes.
pub struct CheckInCodes {
    key: [u8; 32],
    window_secs: i64,
}

impl CheckInCodes {
    /// Derive the code key from the server secret (the JWT signing key); codes rotate every
    /// `window_secs` seconds (at least 1).
    pub fn new(server_secret: &[u8], window_secs: i64) -> Self {
        let mut key = [0u8; 32];
        key.copy_from_slice(&Self::mac_with(
            server_secret,
            b"tongxing check-in codes v1",
        ));
        Self {
            key,
            window_secs: window_secs.max(1),
        }
    }

    fn window_of(&self, at: DateTime<Utc>) -> i64 {
        at.timestamp().div_euclid(self.window_secs)
    }

    fn window_start(&self, w: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(w * self.window_secs, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    fn mac_with(key: &[u8], data: &[u8]) -> [u8; 32] {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    fn mac(&self, purpose: &[u8], shift_id: i64, window: i64) -> [u8; 32] {
        let mut data = Vec::with_capacity(purpose.len() + 16);
        data.extend_from_slice(purpose);
        data.extend_from_slice(&shift_id.to_be_bytes());
        data.extend_from_slice(&window.to_be_bytes());
        Self::mac_with(&self.key, &data)
    }

    fn pin_for(&self, shift_id: i64, window: i64) -> String {
        let m = self.mac(b"pin", shift_id, window);
        let n = u32::from_be_bytes([m[0], m[1], m[2], m[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// The code of `shift_id` at `now`.
    pub fn issue(&self, shift_id: i64, now: DateTime<Utc>) -> IssuedCode {
        let w = self.window_of(now);
        let m = self.mac(b"qr", shift_id, w);
        let mut raw = Vec::with_capacity(16 + MAC_BYTES);
        raw.extend_from_slice(&shift_id.to_be_bytes());
        raw.extend_from_slice(&w.to_be_bytes());
        raw.extend_from_slice(&m[..MAC_BYTES]);
        IssuedCode {
            qr_payload: format!("{QR_PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)),
            pin: self.pin_for(shift_id, w),
            refresh_at: self.window_start(w + 1),
            expires_at: self.window_start(w + 2),
        }
    }

    /// Check a scanned QR payload for `shift_id` at time `at`.
    pub fn verify_qr(
        &self,
        shift_id: i64,
        payload: &str,
        at: DateTime<Utc>,
    ) -> Result<(), CodeError> {
        let raw = payload
            .strip_prefix(QR_PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|r| r.len() == 16 + MAC_BYTES)
            .ok_or(CodeError::Invalid)?;
        let code_shift = i64::from_be_bytes(raw[0..8].try_into().map_err(|_| CodeError::Invalid)?);
        let w = i64::from_be_bytes(raw[8..16].try_into().map_err(|_| CodeError::Invalid)?);
        let mut mac = HmacSha256::new_from_slice(&self.key).map_err(|_| CodeError::Invalid)?;
        mac.update(b"qr");
        mac.update(&code_shift.to_be_bytes());
        mac.update(&w.to_be_bytes());
        // Constant-time comparison of the truncated MAC.
        mac.verify_truncated_left(&raw[16..])
            .map_err(|_| CodeError::Invalid)?;
        if code_shift != shift_id {
            return Err(CodeError::WrongShift);
        }
        let now_w = self.window_of(at);
        if w == now_w || w == now_w - 1 {
            Ok(())
        } else {
            Err(CodeError::Expired)
        }
    }

    /// Check a typed 6-digit PIN for `shift_id` at time `at`.
    pub fn verify_pin(&self, shift_id: i64, pin: &str, at: DateTime<Utc>) -> Result<(), CodeError> {
        if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Invalid);
        }
        let now_w = self.window_of(at);
        let matches = [now_w, now_w - 1].into_iter().any(|w| {
            let expected = self.pin_for(shift_id, w);
            // Both are six ASCII digits: compare without early exit.
            expected
                .bytes()
                .zip(pin.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        });
        if matches {
            Ok(())
        } else {
            Err(CodeError::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn a_code_is_accepted_for_its_window_and_the_next_only() {
        let codes = CheckInCodes::new(b"server-secret", WINDOW_SECS);
        let t0 = at(1_800_000_000); // a window boundary (divisible by 30)
        let c = codes.issue(7, t0);
        assert_eq!(c.refresh_at, at(1_800_000_030));
        assert_eq!(c.expires_at, at(1_800_000_060));
        assert_eq!(codes.verify_qr(7, &c.qr_payload, t0), Ok(()));
        assert_eq!(codes.verify_qr(7, &c.qr_payload, at(1_800_000_059)), Ok(()));
        assert_eq!(
            codes.verify_qr(7, &c.qr_payload, at(1_800_000_060)),
            Err(CodeError::Expired)
        );
        assert_eq!(
            codes.verify_qr(7, &c.qr_payload, at(1_799_999_999)),
            Err(CodeError::Expired)
        );
        assert_eq!(codes.verify_pin(7, &c.pin, at(1_800_000_045)), Ok(()));
        assert_eq!(
            codes.verify_pin(7, &c.pin, at(1_800_000_090)),
            Err(CodeError::Invalid)
        );
    }

    #[test]
    fn codes_rotate_and_are_bound_to_their_shift() {
        let codes = CheckInCodes::new(b"server-secret", WINDOW_SECS);
        let t0 = at(1_800_000_000);
        let a = codes.issue(7, t0);
        let b = codes.issue(7, at(1_800_000_030));
        assert_ne!(a.qr_payload, b.qr_payload);
        let other = codes.issue(8, t0);
        assert_eq!(
            codes.verify_qr(7, &other.qr_payload, t0),
            Err(CodeError::WrongShift)
        );
        assert_eq!(a.pin.len(), 6);
    }

    #[test]
    fn forged_and_foreign_codes_are_invalid() {
        let codes = CheckInCodes::new(b"server-secret", WINDOW_SECS);
        let t0 = at(1_800_000_000);
        let c = codes.issue(7, t0);
        // Another server's key.
        let theirs = CheckInCodes::new(b"another-secret", WINDOW_SECS).issue(7, t0);
        assert_eq!(
            codes.verify_qr(7, &theirs.qr_payload, t0),
            Err(CodeError::Invalid)
        );
        // A flipped bit.
        let mut tampered = c.qr_payload.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(codes.verify_qr(7, &tampered, t0), Err(CodeError::Invalid));
        for junk in ["", "TX1.", "TX1.!!!", "hello", "123456"] {
            assert_eq!(
                codes.verify_qr(7, junk, t0),
                Err(CodeError::Invalid),
                "{junk}"
            );
        }
        assert_eq!(codes.verify_pin(7, "12a456", t0), Err(CodeError::Invalid));
    }
}
