//! Feed tokens: the secret part of a calendar-feed URL, `/calendar/{token}.ics`.
//!
//! A token is `base64url(account ‖ generation ‖ mac)`: the account's key (8 bytes, big-endian),
//! the feed's generation (4 bytes) and the first 16 bytes of HMAC-SHA256 over both under a key
//! derived from the server secret for this one purpose. So:
//! - nothing secret is stored: the server recomputes the URL whenever its owner asks for it,
//!   and a stolen database yields no feed URL;
//! - a forged or garbled token is refused by arithmetic alone, before any database read;
//! - rotating the URL increments the generation kept in the database, so every older token
//!   still verifies but names a stale generation, and gets the same `404` as a forged one;
//! - replicas that share the server secret agree; changing the secret changes every URL.
//!
//! 128 bits of MAC leave a forger one chance in 2¹²⁸ per guess; the comparison is constant-time
//! (`hmac`'s `verify_truncated_left`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of MAC kept in a token.
const MAC_BYTES: usize = 16;
/// Bytes of a decoded token: account, generation, MAC.
const RAW_BYTES: usize = 8 + 4 + MAC_BYTES;
/// Characters of an encoded token (unpadded base64url of `RAW_BYTES`).
pub const TOKEN_CHARS: usize = (RAW_BYTES * 4).div_ceil(3);
/// Label that derives the feed key from the server secret: no other use of the secret (access
/// tokens, check-in codes) can produce or accept a feed MAC.
const KEY_LABEL: &[u8] = b"tongxing calendar feed key v1";

/// What a genuine token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedClaim {
    /// The account whose sign-ups the feed shows.
    pub account_id: i64,
    /// The generation the token was made for; valid only while it is the account's current one.
    pub generation: u32,
}

/// Makes and checks feed tokens.
pub struct FeedTokens {
    key: [u8; 32],
}

impl FeedTokens {
    /// Derive the feed key from the server secret (the JWT signing key).
    pub fn new(server_secret: &[u8]) -> Self {
        Self {
            key: mac(server_secret, &[KEY_LABEL]),
        }
    }

    /// The token of `claim`.
    pub fn issue(&self, claim: FeedClaim) -> String {
        let (account, generation) = (
            claim.account_id.to_be_bytes(),
            claim.generation.to_be_bytes(),
        );
        let tag = mac(&self.key, &[&account, &generation]);
        let mut raw = Vec::with_capacity(RAW_BYTES);
        raw.extend_from_slice(&account);
        raw.extend_from_slice(&generation);
        raw.extend_from_slice(&tag[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// What `token` names, if this server made it; `None` for anything else. Costs one HMAC
    /// at most, and nothing for a token of the wrong length or alphabet.
    pub fn verify(&self, token: &str) -> Option<FeedClaim> {
        if token.len() != TOKEN_CHARS {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (account, rest) = raw.split_first_chunk::<8>()?;
        let (generation, tag) = rest.split_first_chunk::<4>()?;
        if tag.len() != MAC_BYTES {
            return None;
        }
        let mut m = HmacSha256::new_from_slice(&self.key).ok()?;
        m.update(account);
        m.update(generation);
        m.verify_truncated_left(tag).ok()?;
        Some(FeedClaim {
            account_id: i64::from_be_bytes(*account),
            generation: u32::from_be_bytes(*generation),
        })
    }
}

/// HMAC-SHA256 of the concatenated `parts` under `key`.
fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut m) = HmacSha256::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(account_id: i64, generation: u32) -> FeedClaim {
        FeedClaim {
            account_id,
            generation,
        }
    }

    #[test]
    fn a_token_verifies_to_what_it_was_issued_for() {
        let tokens = FeedTokens::new(b"server-secret-server-secret-0123");
        for c in [claim(1, 0), claim(42, 7), claim(i64::MAX, u32::MAX)] {
            let t = tokens.issue(c);
            assert_eq!(t.len(), TOKEN_CHARS);
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "URL-safe: {t}"
            );
            assert_eq!(tokens.verify(&t), Some(c));
        }
        // Deterministic: the owner sees the same URL every time they ask.
        assert_eq!(tokens.issue(claim(42, 7)), tokens.issue(claim(42, 7)));
        assert_ne!(tokens.issue(claim(42, 7)), tokens.issue(claim(42, 8)));
    }

    #[test]
    fn forged_garbled_and_foreign_tokens_are_refused() {
        let tokens = FeedTokens::new(b"server-secret-server-secret-0123");
        let good = tokens.issue(claim(42, 3));
        // Another server's token for the same claim.
        let other = FeedTokens::new(b"another-secret-another-secret-01");
        assert_eq!(tokens.verify(&other.issue(claim(42, 3))), None);
        // Every single-character change is refused (the account, generation and MAC alike).
        for i in 0..good.len() {
            let mut bytes = good.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            assert_eq!(tokens.verify(&changed), None, "changed at {i}: {changed}");
        }
        // Claiming another account or generation with the original MAC.
        let raw = URL_SAFE_NO_PAD.decode(&good).unwrap();
        let mut swapped = raw.clone();
        swapped[7] ^= 1;
        assert_eq!(tokens.verify(&URL_SAFE_NO_PAD.encode(&swapped)), None);
        let mut bumped = raw;
        bumped[11] += 1;
        assert_eq!(tokens.verify(&URL_SAFE_NO_PAD.encode(&bumped)), None);
        for junk in [
            "",
            "x",
            &good[..good.len() - 1],
            &format!("{good}A"),
            &"=".repeat(TOKEN_CHARS),
            // The right length in bytes, but not base64.
            &format!("{}ab", "中".repeat(12)),
        ] {
            assert_eq!(tokens.verify(junk), None, "{junk:?}");
        }
    }
}
