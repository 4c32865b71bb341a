//! GraphQL surface of service certificates.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::scalars::Date;
use entity::service_certificate as cert;

use super::{
    pdf::hours,
    service::{self, IssueRequest, Line},
};
use crate::{
    context::ContextExt,
    events::domain::EventCategory,
    identity::domain::{IdType, mask_name},
    ids::{self, NodeType},
    organizations::graphql::Organization,
};

/// A service certificate (志愿服务证明): approved service of one volunteer over a period, by
/// event, issued in an organization's name.
pub struct ServiceCertificate {
    model: cert::Model,
    /// The volunteer or the issuer's staff: the name is shown whole and the PDF offered.
    full: bool,
}

impl ServiceCertificate {
    /// Wrap a certificate for a viewer who may (`full`) or may not see the name whole.
    pub fn new(model: cert::Model, full: bool) -> Self {
        Self { model, full }
    }
}

/// One certified line: the volunteer's approved service in one event.
#[derive(SimpleObject)]
pub struct ServiceCertificateLine {
    /// The event's title.
    event_title: String,
    /// The organization that ran it.
    organization_name: String,
    /// The event's category.
    category: EventCategory,
    /// Day of the first shift served (China Standard Time).
    first_day: Date,
    /// Day of the last shift served.
    last_day: Date,
    /// Approved minutes.
    minutes: i64,
    /// Service records counted.
    records: i64,
}

impl From<Line> for ServiceCertificateLine {
    fn from(l: Line) -> Self {
        Self {
            category: l.category,
            event_title: l.event_title,
            organization_name: l.organization_name,
            first_day: Date(l.first_day),
            last_day: Date(l.last_day),
            minutes: l.minutes,
            records: l.records,
        }
    }
}

/// A service certificate (志愿服务证明): approved service of one volunteer over a period, by
/// event, issued in an organization's name.
#[Object]
impl ServiceCertificate {
    /// The certificate number, e.g. `TXC-2026-K8M3-ZQ7P-4W9D`.
    async fn number(&self) -> &str {
        &self.model.number
    }

    /// The volunteer's legal name; masked (`李*`) unless the caller is the volunteer or the
    /// issuer's staff.
    async fn legal_name(&self) -> String {
        if self.full {
            self.model.legal_name.clone()
        } else {
            mask_name(&self.model.legal_name)
        }
    }

    /// The volunteer number.
    async fn volunteer_number(&self) -> &str {
        &self.model.volunteer_number
    }

    /// Kind of ID document named.
    async fn id_type(&self) -> IdType {
        self.model.id_type
    }

    /// The ID number, masked; only for the volunteer and the issuer's staff (`null` for
    /// anyone else: even masked, with a birthday it narrows the number down too far).
    async fn id_number_masked(&self) -> Option<&str> {
        self.full.then_some(self.model.id_masked.as_str())
    }

    /// First day of the period (China Standard Time).
    async fn period_from(&self) -> Date {
        Date(self.model.period_from)
    }

    /// Last day of the period, inclusive.
    async fn period_to(&self) -> Date {
        Date(self.model.period_to)
    }

    /// Approved minutes in all.
    async fn total_minutes(&self) -> i64 {
        self.model.total_minutes
    }

    /// Approved hours in all, with one decimal (rounded down), as printed: `12.5`.
    async fn total_hours(&self) -> String {
        hours(self.model.total_minutes)
    }

    /// The service by event, in the order it began.
    async fn lines(&self) -> Result<Vec<ServiceCertificateLine>> {
        Ok(service::lines(&self.model)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The organization in whose name it was issued.
    async fn issuing_organization(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::direct::Fast<Organization>> {
        crate::organizations::graphql::required(ctx, self.model.organization_id).await
    }

    /// When it was issued.
    async fn issued_at(&self) -> DateTime<Utc> {
        self.model.issued_at
    }

    /// The issue date as printed (China Standard Time).
    async fn issue_date(&self) -> Date {
        Date(
            self.model
                .issued_at
                .with_timezone(&crate::clock::city_offset())
                .date_naive(),
        )
    }

    /// Path of the PDF (`GET` it with the access token); only for the volunteer and the
    /// issuer's staff.
    async fn pdf_path(&self) -> Option<String> {
        self.full
            .then(|| format!("/certificates/{}.pdf", self.model.number))
    }
}

/// Certificate queries.
#[derive(Default)]
pub struct CertificateQuery;

#[Object]
impl CertificateQuery {
    /// Check a certificate by its number; public. `null` when no certificate has this number.
    /// Strangers see the name masked; the rest is what the certificate certifies.
    async fn verify_service_certificate(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The certificate number as printed (case and O/0, I/1 mix-ups are forgiven)."
        )]
        number: String,
    ) -> Result<Option<ServiceCertificate>> {
        let db = &ctx.state().db;
        let Some(c) = service::find(db, &number).await? else {
            return Ok(None);
        };
        let full = match ctx.optional_account().await? {
            Some(viewer) => service::may_see_in_full(db, viewer, &c).await?,
            None => false,
        };
        Ok(Some(ServiceCertificate::new(c, full)))
    }
}

/// Certificate mutations.
#[derive(Default)]
pub struct CertificateMutation;

#[Object]
impl CertificateMutation {
    /// Issue a certificate of approved service whose shifts started between `from` and `to`
    /// (China Standard Time, inclusive). For the caller by default; staff pass `volunteerId` and
    /// their `organizationId`. With `organizationId` only that organization's service (its whole
    /// subtree) counts and it issues; without, the nearest organization above all the service
    /// issues. Needs the volunteer's real-name identity (`IDENTITY_REQUIRED`).
    async fn issue_service_certificate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day of the period.")] from: Date,
        #[graphql(desc = "Last day of the period, inclusive; not in the future.")] to: Date,
        #[graphql(desc = "The volunteer (staff only); the caller when omitted.")]
        volunteer_id: Option<ID>,
        #[graphql(desc = "The issuing organization; required when staff issue for a volunteer.")]
        organization_id: Option<ID>,
    ) -> Result<ServiceCertificate> {
        let viewer = ctx.require_account().await?;
        let volunteer = volunteer_id
            .map(|id| ids::decode(NodeType::Account, &id, "volunteerId"))
            .transpose()?;
        let organization = organization_id
            .map(|id| ids::decode(NodeType::Organization, &id, "organizationId"))
            .transpose()?;
        let c = service::issue(
            &ctx.state().db,
            viewer,
            IssueRequest {
                volunteer,
                organization,
                from: from.0,
                to: to.0,
            },
        )
        .await?;
        Ok(ServiceCertificate::new(c, true))
    }
}
