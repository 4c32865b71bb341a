//! Third-party API clients (district platforms, hotline systems): registered by an
//! organization's staff, authenticated with the OAuth 2.0 client-credentials grant at
//! `POST /oauth/token`, and acting with short-lived tokens that carry their scopes and
//! organization. A client acts with the authority of the staff member who registered it,
//! narrowed to its organization's subtree and to its scopes.

pub mod graphql;
pub mod service;

use async_graphql::Enum;

/// What an API client may do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[graphql(name = "ApiScope")]
pub enum Scope {
    /// `public:read`: what anyone may read (events, shifts, campaigns, organizations).
    PublicRead,
    /// `org:read`: its organization's service records and sign-ups.
    OrgRead,
    /// `events:write`: create, change, publish and cancel its organization's events and shifts.
    EventsWrite,
    /// `checkins:write`: check-in codes and manual check-ins for its organization's shifts.
    CheckinsWrite,
    /// `help_requests:write`: report help requests (used from the help-request issue on).
    HelpRequestsWrite,
}

impl Scope {
    /// All scopes.
    pub const ALL: [Self; 5] = [
        Self::PublicRead,
        Self::OrgRead,
        Self::EventsWrite,
        Self::CheckinsWrite,
        Self::HelpRequestsWrite,
    ];

    /// The OAuth name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PublicRead => "public:read",
            Self::OrgRead => "org:read",
            Self::EventsWrite => "events:write",
            Self::CheckinsWrite => "checkins:write",
            Self::HelpRequestsWrite => "help_requests:write",
        }
    }

    /// Read an OAuth name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a verified client token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    /// Database key of the client.
    pub client_key: i64,
    /// Its organization.
    pub organization_id: i64,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
}

tokio::task_local! {
    /// The organization a client request is confined to (see `authz`).
    pub static CLIENT_ORGANIZATION: i64;
}

/// The organization the current request is confined to, when a client makes it.
pub fn confined_to() -> Option<i64> {
    CLIENT_ORGANIZATION.try_with(|o| *o).ok()
}

/// Root fields of a selection set, following fragments at the root; `false` when fragments
/// nest deeper than a client may nest them (the document is then refused, never half-checked).
fn root_fields<'a>(
    doc: &'a async_graphql::parser::types::ExecutableDocument,
    set: &'a async_graphql::parser::types::SelectionSet,
    out: &mut Vec<&'a str>,
    depth: usize,
) -> bool {
    use async_graphql::parser::types::Selection;
    if depth > 8 {
        return false;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => out.push(f.node.name.node.as_str()),
            Selection::InlineFragment(fr) => {
                if !root_fields(doc, &fr.node.selection_set.node, out, depth + 1) {
                    return false;
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fr) = doc.fragments.get(&spread.node.fragment_name.node)
                    && !root_fields(doc, &fr.node.selection_set.node, out, depth + 1)
                {
                    return false;
                }
            }
        }
    }
    true
}

/// Refuse a document with a root field (other than `__typename` and introspection) that
/// `allowed(root type, field)` refuses: `FORBIDDEN` with its message, before anything runs.
/// `who` names the caller in the message about fragments nested too deeply to check.
pub fn check_root_fields(
    doc: &async_graphql::parser::types::ExecutableDocument,
    who: crate::i18n::Msg,
    allowed: impl Fn(&str, &str) -> Result<(), crate::i18n::Msg>,
) -> async_graphql::ServerResult<()> {
    use async_graphql::parser::types::OperationType;
    let forbidden = |message| crate::i18n::coded_error(message, "FORBIDDEN");
    for (_, op) in doc.operations.iter() {
        let parent = match op.node.ty {
            OperationType::Query => "QueryRoot",
            OperationType::Mutation => "MutationRoot",
            OperationType::Subscription => "SubscriptionRoot",
        };
        let mut fields = Vec::new();
        if !root_fields(doc, &op.node.selection_set.node, &mut fields, 0) {
            let (who, who_zh) = (who.en(), who.zh());
            return Err(forbidden(msg!(
                "fragments nest too deeply at the root for {who}",
                "查询根部的片段嵌套过深，{who_zh}无法使用"
            )));
        }
        for field in fields {
            if field.starts_with("__") {
                continue;
            }
            allowed(parent, field).map_err(forbidden)?;
        }
    }
    Ok(())
}
