//! Encryption of ID numbers at rest. AES-256-GCM (RustCrypto's `aes-gcm`, audited and kept by
//! the same group as our hashes) with a random 96-bit nonce per value and the account id as
//! associated data, so a ciphertext copied onto another account's row does not decrypt. A keyed
//! HMAC digest of (type, number) lets the database enforce one identity per person without
//! storing anything that can be reversed or matched against a list of numbers.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::domain::IdType;

const NONCE_LEN: usize = 12;

/// Holds the keys derived from the identity master key.
pub struct IdentityVault {
    cipher: Aes256Gcm,
    digest_key: [u8; 32],
}

impl std::fmt::Debug for IdentityVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityVault([redacted])")
    }
}

fn derive(master: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl IdentityVault {
    /// Derive the encryption and digest keys from the master key (at least 32 bytes).
    pub fn new(master: &[u8]) -> anyhow::Result<Self> {
        Self::for_purpose(master, "identity")
    }

    /// The keys of one purpose (`identity`, `care`…), derived from the master key under their
    /// own labels: what one purpose sealed, another cannot open.
    pub fn for_purpose(master: &[u8], purpose: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            master.len() >= 32,
            "the identity key must be at least 32 bytes"
        );
        let enc = derive(master, format!("tongxing/{purpose}/encrypt/v1").as_bytes());
        let cipher = Aes256Gcm::new_from_slice(&enc)
            .map_err(|_| anyhow::anyhow!("AES-256 takes a 32-byte key"))?;
        Ok(Self {
            cipher,
            digest_key: derive(master, format!("tongxing/{purpose}/digest/v1").as_bytes()),
        })
    }

    /// Encrypt `text` bound to `aad` (what it belongs to): nonce, then ciphertext and tag.
    pub fn seal_for(&self, aad: &[u8], text: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: text.as_bytes(),
                    aad,
                },
            )
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// Decrypt what [`seal_for`](Self::seal_for) sealed for `aad`; `None` if tampered with,
    /// bound to something else, or sealed under another key.
    pub fn open_for(&self, aad: &[u8], sealed: &[u8]) -> Option<String> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: body, aad })
            .ok()?;
        String::from_utf8(plain).ok()
    }

    /// Encrypt `number` for `account_id`: nonce followed by ciphertext and tag.
    pub fn seal(&self, account_id: i64, number: &str) -> Vec<u8> {
        self.seal_for(&account_id.to_be_bytes(), number)
    }

    /// Decrypt what [`seal`](Self::seal) wrote for `account_id`; `None` if it was tampered
    /// with, belongs to another account, or was sealed under another key.
    pub fn open(&self, account_id: i64, sealed: &[u8]) -> Option<String> {
        self.open_for(&account_id.to_be_bytes(), sealed)
    }

    /// Hex digest identifying (type, number) without revealing it.
    pub fn digest(&self, kind: IdType, number: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.digest_key).expect("HMAC takes any key");
        mac.update(sea_orm::ActiveEnum::to_value(&kind).as_bytes());
        mac.update(b":");
        mac.update(number.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_numbers_open_only_for_their_account_and_key() {
        let vault = IdentityVault::new(&[7u8; 32]).unwrap();
        let sealed = vault.seal(42, "11010519491231002X");
        assert!(!sealed.windows(6).any(|w| w == b"110105"));
        assert_eq!(
            vault.open(42, &sealed).as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(vault.open(43, &sealed), None, "moved to another account");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(vault.open(42, &tampered), None);
        let other = IdentityVault::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(42, &sealed), None);
        // Fresh nonce every time.
        assert_ne!(vault.seal(42, "11010519491231002X"), sealed);
    }

    #[test]
    fn digests_are_keyed_and_typed() {
        let vault = IdentityVault::new(&[7u8; 32]).unwrap();
        let d = vault.digest(IdType::MainlandId, "11010519491231002X");
        assert_eq!(d.len(), 64);
        assert_eq!(d, vault.digest(IdType::MainlandId, "11010519491231002X"));
        assert_ne!(d, vault.digest(IdType::Passport, "11010519491231002X"));
        let other = IdentityVault::new(&[8u8; 32]).unwrap();
        assert_ne!(d, other.digest(IdType::MainlandId, "11010519491231002X"));
        assert!(IdentityVault::new(&[1u8; 16]).is_err());
    }
}
