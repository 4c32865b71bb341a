//! Who may ask for each field: one table for the whole schema.
//!
//! Every field of every object and interface type has a [`Rule`] here. For an API client the
//! rule is enforced on the whole document right after parsing ([`check_document`]): every
//! field at every depth, through fragments and inline fragments on any type (`node(id:) { ...
//! on ServiceRecord { history } }`), before a resolver runs. A refused document is `FORBIDDEN`
//! as a whole, never half-answered. For people, the rule names the relation the resolver checks
//! (staff of the record's organization, the person themself), and the resolvers keep checking
//! it against the data.
//!
//! A test walks the schema by introspection and fails on any field without a rule, so a new
//! field cannot be reached by clients before someone decides who may read it. A type may name a
//! rule for "every other field" only when that rule is [`Rule::People`], the safe default.

use async_graphql::{
    parser::types::{ExecutableDocument, Selection, SelectionSet},
    registry::Registry,
};

use crate::{
    clients::{ClientGrant, Scope},
    i18n::Msg,
};

/// What a field needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anyone: anonymous callers, every person, every API client (it is reached only through
    /// fields whose own rules let the caller in). What it shows may still depend on who asks.
    Public,
    /// An API client needs this scope (and stays within its organization's subtree, phones
    /// masked); people as the resolver decides (staff of the organization for `org:read`).
    Scope(Scope),
    /// People only, as the resolver decides (the person themself, or the organization's staff);
    /// never an API client.
    People,
}

/// The rule for `field` of type `ty`; `None` when the table has none (a test fails on it).
pub fn rule(ty: &str, field: &str) -> Option<Rule> {
    use Rule::{People, Public, Scope as Needs};
    use Scope::*;
    if field == "__typename" {
        return Some(Public);
    }
    Some(match (ty, field) {
        // The roots: what a client may start from.
        ("QueryRoot", "serviceRecords") => Needs(OrgRead),
        (
            "QueryRoot",
            "organizations" | "organization" | "campaigns" | "campaign" | "events" | "event"
            | "shifts" | "shift" | "node" | "charityFund" | "microWishes" | "microWish"
            | "helpRequest" | "helpRequests" | "verifyServiceCertificate" | "serviceProject"
            | "topics" | "topic" | "topicCounts",
        ) => Needs(PublicRead),
        ("QueryRoot", _) => People,
        ("MutationRoot", "createHelpRequest") => Needs(HelpRequestsWrite),
        (
            "MutationRoot",
            "createEvent" | "updateEvent" | "publishEvent" | "cancelEvent" | "createShift"
            | "createShiftSeries" | "updateShift" | "cancelShift",
        ) => Needs(EventsWrite),
        ("MutationRoot", "issueCheckInCode" | "checkIn" | "checkOut") => Needs(CheckinsWrite),
        ("MutationRoot" | "SubscriptionRoot", _) => People,

        // Pages: as the field that returns them.
        (t, "edges" | "nodes" | "pageInfo" | "node" | "cursor" | "totalCount")
            if t.ends_with("Connection") || t.ends_with("Edge") =>
        {
            Public
        }
        ("PageInfo", "hasPreviousPage" | "hasNextPage" | "startCursor" | "endCursor") => Public,
        ("Node", "id") => Public,

        // People.
        ("Account", "id" | "displayName" | "createdAt") => Public,
        // The organization's members and volunteers; always masked for a client.
        ("Account", "phone") => Needs(OrgRead),
        ("Account", _) => People,

        // Organizations, campaigns, events and shifts: the public face.
        (
            "Organization",
            "id" | "name" | "kind" | "regionCode" | "address" | "latitude" | "longitude"
            | "parent" | "children" | "ancestors" | "funds" | "createdAt" | "updatedAt"
            | "serviceProjects" | "serviceList" | "needs",
        ) => Public,
        ("Organization", "members") => Needs(OrgRead),
        ("Organization", _) => People,
        (
            "Campaign",
            "id" | "organization" | "title" | "description" | "status" | "startsAt" | "endsAt"
            | "volunteerHoursGoal" | "fundraisingGoalFen" | "coverImageUrl" | "publishedAt"
            | "progress" | "donations" | "events" | "createdAt" | "updatedAt",
        ) => Public,
        (
            "CampaignProgress",
            "volunteerMinutes" | "volunteerCount" | "eventCount" | "shiftsFilled" | "raisedFen",
        ) => Public,
        (
            "CharityEvent",
            "id" | "organization" | "campaign" | "title" | "description" | "category" | "address"
            | "latitude" | "longitude" | "distanceMeters" | "startsAt" | "endsAt" | "status"
            | "cancelReason" | "publishedAt" | "autoApproveVerified" | "acceptLocationEvidence"
            | "shifts" | "createdAt" | "updatedAt" | "project",
        ) => Public,
        ("CharityEvent", _) => People,
        (
            "Shift",
            "id" | "event" | "title" | "description" | "startsAt" | "endsAt" | "capacity"
            | "confirmedCount" | "checkedInCount" | "remainingSlots" | "waitlistEnabled"
            | "waitlistCount" | "requiredSkills" | "requiredTraining" | "checkInRadiusMeters"
            | "status"
            | "cancelReason" | "createdAt" | "updatedAt" | "calendarUrl",
        ) => Public,
        ("Shift", "signups") => Needs(OrgRead),
        ("Shift", _) => People,
        ("Location", "latitude" | "longitude") => Public,

        // The organization's own records.
        ("Signup" | "Membership" | "ServiceRecord" | "CheckEvent" | "RecordChange", _) => {
            Needs(OrgRead)
        }
        ("HelpOffer" | "HelpRequestStep", _) => Needs(OrgRead),
        ("CheckInCode" | "CheckResult", _) => Needs(CheckinsWrite),

        // Money: totals and gifts are public; who recorded what and how to pay are not.
        (
            "CharityFund",
            "id" | "name" | "purpose" | "organization" | "balanceFen" | "donatedFen"
            | "disbursedFen" | "createdAt" | "donations" | "disbursements" | "project",
        ) => Public,
        (
            "Donation",
            "id" | "receiptNumber" | "status" | "channel" | "confirmedAt" | "reference"
            | "amountFen" | "donorName" | "anonymous" | "message" | "fund" | "campaign"
            | "createdAt" | "payment",
        ) => Public,
        // `recordedBy` and, above, `receiptNumber`, `reference` and `payment` answer `null`
        // to the public and to every client: their resolvers show them to the donor or the
        // fund's managers in person only (`context::person_manages`, `authz::is_self`).
        (
            "Disbursement",
            "id" | "amountFen" | "purpose" | "projectRef" | "createdAt" | "recordedBy"
            | "project",
        ) => Public,

        // Service projects and the lists a community publishes; reviews, resources and the
        // matching are the staff's.
        (
            "ServiceProject",
            "id" | "title" | "description" | "field" | "funding" | "budgetFen" | "startsOn"
            | "endsOn" | "running" | "beneficiaries" | "beneficiaryTarget" | "organization"
            | "operator" | "evaluator" | "need" | "deliverables" | "progress" | "createdAt",
        ) => Public,
        ("ServiceProject", _) => People,
        (
            "ProjectProgress",
            "deliverables" | "deliverablesMet" | "deliverablesMissed" | "deliverablesOverdue"
            | "deliverablesMetShare" | "eventsHeld" | "eventsPlanned" | "helpRequestsCompleted"
            | "minutesServed" | "hoursServed" | "disbursedFen" | "budgetSpentShare",
        ) => Public,
        (
            "ProjectDeliverable",
            "id" | "title" | "dueOn" | "status" | "overdue" | "note" | "settledAt",
        ) => Public,
        (
            "StationService",
            "id" | "organization" | "title" | "field" | "description" | "schedule" | "active"
            | "createdAt",
        ) => Public,
        (
            "CommunityNeed",
            "id" | "organization" | "title" | "description" | "field" | "skills" | "latitude"
            | "longitude" | "neededFrom" | "neededUntil" | "people" | "status" | "helpRequest"
            | "event" | "project" | "createdAt",
        ) => Public,
        ("CommunityNeed", _) => People,

        // Help requests: the public sees what and roughly where; details are the staff's.
        (
            "HelpRequest",
            "id" | "title" | "category" | "urgency" | "status" | "neededSkills" | "neededBy"
            | "approximateLocation" | "organization" | "reportedAt" | "dispatchedAt"
            | "acceptedAt" | "responseMinutes" | "completedAt" | "minutesServed" | "project"
            // `null` (or without notes) except to the organization's staff and the volunteer
            // who took it, in person: never to a client, whatever its scopes.
            | "details" | "location" | "assignee" | "offers" | "completionNote" | "history",
        ) => Public,
        ("HelpRequest", _) => People,
        (
            "MicroWish",
            "id" | "title" | "story" | "budgetFen" | "beneficiaryAlias" | "status"
            | "organization" | "claimExpiresAt" | "fulfilledAt" | "confirmedAt" | "createdAt"
            // `null` except to the organization's staff and the claimant, in person.
            | "claimantName" | "fulfilmentNote",
        ) => Public,
        ("MicroWish", _) => People,
        // Deliberation: public within the community (hidden topics are the staff's, checked
        // in the resolvers; a client is never a supporter or raiser).
        ("Topic" | "TopicChange" | "TopicMeeting" | "TopicCounts", _) => Public,

        // Certificates are public by number (names masked for strangers).
        (
            "ServiceCertificate",
            "number" | "legalName" | "volunteerNumber" | "idType" | "idNumberMasked"
            | "periodFrom" | "periodTo" | "totalMinutes" | "totalHours" | "lines"
            | "issuingOrganization" | "issuedAt" | "issueDate" | "pdfPath",
        ) => Public,
        (
            "ServiceCertificateLine",
            "eventTitle" | "organizationName" | "category" | "firstDay" | "lastDay" | "minutes"
            | "records",
        ) => Public,

        // A person's own business, and staff tools.
        (
            "ApiClient" | "ApiClientCredentials" | "AuditEntry" | "AuthPayload" | "Identity"
            | "Invitation" | "IssuedKioskCredential" | "KioskCredential" | "PhoneCodeSent"
            | "SyncResult" | "TimeBank" | "TimeCoinEntry" | "TimeCoinTransfer"
            | "VolunteerProfile" | "WechatAppPayment" | "ServiceSummary" | "CategoryMinutes"
            | "NearbyVolunteer" | "CompleteHelpRequestPayload" | "OrganizationStats"
            | "Session" | "CalendarFeed" | "Notification" | "NotificationSettings"
            | "NotificationPreference" | "QuietHours" | "WechatConsent" | "NotificationTemplate"
            | "NotificationDelivery" | "StaffAssignment" | "Squad" | "SquadMember"
            | "SquadFigures" | "SquadSignupOutcome" | "TrainingRecord" | "ProjectReview"
            | "CommunityResource" | "NeedMatches" | "NeedMatch" | "CareRecipient" | "CareContact"
            | "CareConsent" | "CareTask" | "CareVisitLogged" | "CareAlert" | "CareReport",
            _,
        ) => People,
        _ => return None,
    })
}

/// Whether a client with `grant` may ask for `field` of `ty`.
fn allowed(grant: &ClientGrant, ty: &str, field: &str) -> Result<(), Msg> {
    match rule(ty, field) {
        Some(Rule::Public) => Ok(()),
        Some(Rule::Scope(s)) if grant.scopes.contains(&s) => Ok(()),
        Some(Rule::Scope(s)) => {
            let scope = s.as_str();
            Err(msg!(
                "`{ty}.{field}` needs {scope}, which this client was not granted",
                "`{ty}.{field}` 需要 {scope} 权限，该客户端未获授权"
            ))
        }
        Some(Rule::People) | None => Err(msg!(
            "`{ty}.{field}` is not open to API clients",
            "`{ty}.{field}` 不对 API 客户端开放"
        )),
    }
}

/// The named type inside a field's type (`[Shift!]!` → `Shift`).
fn base_type(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

/// What a walk over one document needs.
struct Walk<'a> {
    registry: &'a Registry,
    doc: &'a ExecutableDocument,
    grant: &'a ClientGrant,
    /// Named fragments already checked: each is walked once, so a document that spreads
    /// fragments into fragments costs its size, not the size of its expansion.
    seen: std::collections::HashSet<&'a str>,
}

/// Walk `set` (a selection on type `ty`), checking every field; fragments switch the type to
/// their condition. Refuses documents nested deeper than any query may be.
fn walk<'a>(w: &mut Walk<'a>, ty: &str, set: &'a SelectionSet, depth: usize) -> Result<(), Msg> {
    if depth > 64 {
        return Err(msg!(
            "the document nests too deeply for an API client",
            "查询嵌套过深，API 客户端无法使用"
        ));
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if name.starts_with("__") {
                    // Introspection and `__typename`: as the schema's own rules decide.
                    continue;
                }
                // Unknown fields are left to validation, which refuses them.
                let Some(next) = w
                    .registry
                    .types
                    .get(ty)
                    .and_then(|t| t.field_by_name(name))
                    .map(|m| base_type(&m.ty).to_owned())
                else {
                    continue;
                };
                allowed(w.grant, ty, name)?;
                walk(w, &next, &f.node.selection_set.node, depth + 1)?;
            }
            Selection::InlineFragment(fr) => {
                let on = fr
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(ty, |c| c.node.on.node.as_str());
                walk(w, on, &fr.node.selection_set.node, depth + 1)?;
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if let Some(fr) = w.doc.fragments.get(&spread.node.fragment_name.node)
                    && w.seen.insert(name)
                {
                    // A fragment's fields are checked against its own type condition, so one
                    // check holds wherever it is spread.
                    let on = fr.node.type_condition.node.on.node.as_str();
                    walk(w, on, &fr.node.selection_set.node, depth + 1)?;
                }
            }
        }
    }
    Ok(())
}

/// Refuse, right after parsing, a document asking for any field the calling client may not
/// have, at any depth: `FORBIDDEN` naming the first such field, before anything runs.
pub fn check_document(
    registry: &Registry,
    grant: &ClientGrant,
    doc: &ExecutableDocument,
) -> async_graphql::ServerResult<()> {
    use async_graphql::parser::types::OperationType;
    let mut w = Walk {
        registry,
        doc,
        grant,
        seen: Default::default(),
    };
    for (_, op) in doc.operations.iter() {
        let root = match op.node.ty {
            OperationType::Query => "QueryRoot",
            OperationType::Mutation => "MutationRoot",
            OperationType::Subscription => "SubscriptionRoot",
        };
        walk(&mut w, root, &op.node.selection_set.node, 0)
            .map_err(|message| crate::i18n::coded_error(message, "FORBIDDEN"))?;
    }
    Ok(())
}
