//! GraphQL surface of kiosk credentials.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::kiosk_credential;

use super::service;
use crate::{
    context::ContextExt,
    ids::{self, NodeType},
    validate,
};

/// A key a venue's tablet holds to show the check-in codes of one event's shifts, and when it
/// lapses.
pub struct KioskCredential(pub kiosk_credential::Model, pub DateTime<Utc>);

/// A key a venue's tablet holds to show and rotate the check-in codes of one event's shifts
/// (instead of a staff member's session). It can read nothing else.
#[Object]
impl KioskCredential {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::KioskCredential, self.0.id)
    }

    /// Which tablet, as staff named it.
    async fn label(&self) -> &str {
        &self.0.label
    }

    /// When it was issued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it stops working on its own: when check-out at the event closes (two hours after
    /// its end, as the event is now).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.1
    }
}

/// A new kiosk credential with its key.
#[derive(SimpleObject)]
pub struct IssuedKioskCredential {
    /// The credential.
    credential: KioskCredential,
    /// The key, shown this once: open `/kiosk/shifts/<shiftId>#key=<key>` on the tablet (the
    /// part after `#` never leaves it), or paste the key there.
    key: String,
}

/// Kiosk credential mutations.
#[derive(Default)]
pub struct KioskMutation;

#[Object]
impl KioskMutation {
    /// Issue a kiosk credential for an event (staff of its organization). The tablet that holds
    /// it shows and rotates the check-in codes of the event's shifts and reads those shifts;
    /// every other field is `FORBIDDEN` to it. It works until revoked or until check-out at
    /// the event closes.
    async fn issue_kiosk_credential(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event.")] event_id: ID,
        #[graphql(desc = "Which tablet (1–100 characters), e.g. \"front desk\".")] label: String,
    ) -> Result<IssuedKioskCredential> {
        let viewer = ctx.require_account().await?;
        let event = ids::decode(NodeType::CharityEvent, &event_id, "eventId")?;
        let label = validate::title(&label, "label", 100)?;
        let issued = service::issue(&ctx.state().db, viewer, event, label).await?;
        Ok(IssuedKioskCredential {
            credential: KioskCredential(issued.credential, issued.expires_at),
            key: issued.key,
        })
    }

    /// Revoke a kiosk credential at once (staff of its event's organization).
    async fn revoke_kiosk_credential(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credential.")] id: ID,
    ) -> Result<KioskCredential> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::KioskCredential, &id, "id")?;
        let (c, expires) = service::revoke(&ctx.state().db, viewer, key).await?;
        Ok(KioskCredential(c, expires))
    }
}
