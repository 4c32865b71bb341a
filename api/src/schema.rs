//! The GraphQL schema: root types, the `Node` interface, and error codes for documents that
//! fail to parse or validate.

use std::sync::Arc;

use async_graphql::{
    Context, ID, Interface, MergedObject, Object, Result, Schema, SchemaBuilder, ServerError,
    ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
    },
    parser::types::ExecutableDocument,
};

use crate::{
    AppState,
    accounts::{
        graphql::{Account, AccountMutation, AccountQuery},
        service as account_service,
    },
    campaigns::{
        graphql::{Campaign, CampaignMutation, CampaignQuery},
        service as campaign_service,
    },
    certificates::graphql::{CertificateMutation, CertificateQuery},
    checkins::graphql::{CheckInMutation, ServiceRecord, ServiceRecordQuery},
    clients::graphql::ApiClientMutation,
    context::ContextExt,
    events::{
        graphql::{CharityEvent, EventMutation, EventQuery},
        service as event_service,
    },
    funds::graphql::{CharityFund, FundMutation, FundQuery},
    help::graphql::{HelpMutation, HelpQuery, HelpRequest},
    i18n::Lang,
    identity::graphql::IdentityMutation,
    ids::{self, NodeType},
    kiosk::graphql::KioskMutation,
    live::graphql::SubscriptionRoot,
    organizations::{
        graphql::{Membership, Organization, OrganizationMutation, OrganizationQuery},
        service as org_service,
    },
    profiles::graphql::ProfileMutation,
    shifts::{
        graphql::{Shift, ShiftMutation, ShiftQuery},
        service as shift_service,
    },
    signups::{
        graphql::{Signup, SignupMutation},
        service as signup_service,
    },
    timebank::graphql::TimeBankMutation,
    wishes::graphql::{MicroWish, WishMutation, WishQuery},
};

/// The schema type served at `/graphql`.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// An object with a global ID, fetchable with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Global ID: opaque, stable, unique across types."
))]
// One short-lived value per `node` call: boxing the larger variants would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// An account.
    Account(Account),
    /// An organization.
    Organization(Organization),
    /// A membership.
    Membership(Membership),
    /// A campaign.
    Campaign(Campaign),
    /// A charity event.
    CharityEvent(CharityEvent),
    /// A shift.
    Shift(Shift),
    /// A sign-up.
    Signup(Signup),
    /// A service record.
    ServiceRecord(ServiceRecord),
    /// A charity fund.
    CharityFund(CharityFund),
    /// A micro-wish.
    MicroWish(MicroWish),
    /// A help request.
    HelpRequest(HelpRequest),
    /// A service project.
    ServiceProject(crate::projects::graphql::ServiceProject),
    /// A need on a community's list.
    CommunityNeed(crate::projects::graphql::CommunityNeed),
    /// A topic residents deliberate (a hidden one only for its raiser and the staff).
    Topic(crate::deliberation::graphql::Topic),
}

/// `node(id:)`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by global ID; `null` when it does not exist or the caller may not see it.
    /// Accounts, memberships and sign-ups need a login (`UNAUTHENTICATED` without one): an
    /// account is visible to itself and to administrators of an organization it belongs to; a
    /// membership or sign-up to its member and the organization's staff.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of any type.")] id: ID,
    ) -> Result<Option<Node>> {
        let Some((ty, key)) = ids::decode_any(&id) else {
            return Err(
                crate::error::AppError::bad_input("id", msg!("not a valid ID", "ID 无效")).into(),
            );
        };
        let db = &ctx.state().db;
        Ok(match ty {
            NodeType::Organization => org_service::get(db, key)
                .await?
                .map(|o| Node::Organization(Organization(o))),
            NodeType::Account => {
                let viewer = ctx.require_account().await?;
                account_service::get_visible(db, viewer, key)
                    .await?
                    .map(|a| Node::Account(Account::with_phone_visibility(a, true)))
            }
            NodeType::Campaign => {
                let viewer = ctx.optional_account().await?;
                campaign_service::get_visible(db, viewer, key)
                    .await?
                    .map(|c| Node::Campaign(Campaign(c)))
            }
            NodeType::CharityEvent => {
                let viewer = ctx.optional_account().await?;
                event_service::get_visible(db, viewer, key)
                    .await?
                    .map(|e| Node::CharityEvent(CharityEvent::new(e)))
            }
            NodeType::Shift => {
                let viewer = ctx.optional_account().await?;
                shift_service::get_visible(db, viewer, key)
                    .await?
                    .map(|s| Node::Shift(Shift::new(s)))
            }
            NodeType::Signup => {
                let viewer = ctx.require_account().await?;
                signup_service::get_visible(db, viewer, key)
                    .await?
                    .map(|s| Node::Signup(Signup::from(s)))
            }
            NodeType::ServiceRecord => {
                let viewer = ctx.require_account().await?;
                match crate::checkins::records::get(db, key).await? {
                    Some(r) if crate::checkins::records::may_see(db, viewer, &r).await? => {
                        Some(Node::ServiceRecord(ServiceRecord(r)))
                    }
                    _ => None,
                }
            }
            NodeType::CharityFund => crate::funds::service::get_fund(db, key)
                .await?
                .map(|f| Node::CharityFund(CharityFund(f))),
            // Reached through their fund, campaign or `myDonations`, where the rules on who
            // sees the donor apply.
            NodeType::Donation | NodeType::Disbursement => None,
            NodeType::MicroWish => crate::wishes::service::get(db, key)
                .await?
                .map(|w| Node::MicroWish(MicroWish(w))),
            NodeType::HelpRequest => crate::help::service::get(db, key)
                .await?
                .map(|r| Node::HelpRequest(HelpRequest(r))),
            // Reached through `me.helpOffers` or the request (staff).
            // Reached through `me.notifications`.
            NodeType::HelpOffer
            | NodeType::KioskCredential
            | NodeType::Invitation
            | NodeType::Notification
            | NodeType::NotificationDelivery
            | NodeType::StaffAssignment
            | NodeType::Squad
            | NodeType::ProjectDeliverable
            | NodeType::ProjectReview
            | NodeType::StationService
            | NodeType::CommunityResource
            // The register is read through `careRecipient(id)`, which audits the read.
            | NodeType::CareRecipient
            | NodeType::CareConsent
            | NodeType::CareTask
            | NodeType::CareVisit => None,
            NodeType::ServiceProject => crate::projects::service::get(db, key)
                .await?
                .map(|p| Node::ServiceProject(crate::projects::graphql::ServiceProject(p))),
            NodeType::Topic => {
                let viewer = ctx.optional_account().await?;
                match crate::deliberation::service::visible(db, viewer, key).await {
                    Ok(t) => Some(Node::Topic(crate::deliberation::graphql::Topic(t))),
                    Err(crate::error::AppError::NotFound(_)) => None,
                    Err(e) => return Err(e.into()),
                }
            }
            NodeType::CommunityNeed => crate::projects::lists::get_need(db, key)
                .await?
                .map(|n| Node::CommunityNeed(crate::projects::graphql::CommunityNeed(n))),
            NodeType::Membership => {
                let viewer = ctx.require_account().await?;
                org_service::get_visible_membership(db, viewer, key)
                    .await?
                    .map(|m| Node::Membership(Membership::from(m)))
            }
        })
    }
}

/// All queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    AccountQuery,
    OrganizationQuery,
    CampaignQuery,
    EventQuery,
    ShiftQuery,
    ServiceRecordQuery,
    CertificateQuery,
    FundQuery,
    WishQuery,
    HelpQuery,
    crate::accounts::graphql::PrivacyQuery,
    crate::notifications::graphql::NotificationQuery,
    crate::squads::graphql::SquadQuery,
    crate::projects::graphql::ProjectQuery,
    crate::care::graphql::CareQuery,
    crate::care::graphql::CarePlanQuery,
    crate::deliberation::graphql::DeliberationQuery,
    NodeQuery,
);

/// All mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    AccountMutation,
    OrganizationMutation,
    CampaignMutation,
    EventMutation,
    ShiftMutation,
    SignupMutation,
    ProfileMutation,
    CheckInMutation,
    TimeBankMutation,
    IdentityMutation,
    CertificateMutation,
    ApiClientMutation,
    FundMutation,
    WishMutation,
    HelpMutation,
    KioskMutation,
    crate::calendar::graphql::CalendarMutation,
    crate::notifications::graphql::NotificationMutation,
    crate::staffing::graphql::StaffingMutation,
    crate::squads::graphql::SquadMutation,
    crate::projects::graphql::ProjectMutation,
    crate::care::graphql::CareMutation,
    crate::care::graphql::CarePlanMutation,
    crate::deliberation::graphql::DeliberationMutation,
);

/// The schema without runtime data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .extension(RequestHooks::default())
}

/// The schema served by the router, with the configured query limits.
pub fn build_schema(state: AppState) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    // One extension for every hook: async-graphql runs each field through every extension's
    // chain, so four would cost four boxed calls per field of every response.
    .extension(RequestHooks {
        persisted: Some(state.persisted.clone()),
        documents: Some(Arc::new(crate::persisted::DocumentCache::new(512))),
        max_aliases: Some(state.config.max_aliases),
        max_depth: Some(state.config.max_query_depth),
        metrics: Some(state.metrics.clone()),
        requests: Some(state.request_limiter.clone()),
    })
    // Depth is checked by `RequestHooks` (introspection aside: tools must be able to load the
    // schema in development; production refuses introspection altogether).
    .limit_complexity(state.config.max_query_complexity)
    .limit_recursive_depth(32);
    if state.config.environment == crate::config::Environment::Production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.data(state).finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Marks operations that arrived over the WebSocket: only subscriptions run there, so queries
/// and mutations always pass the HTTP layer's limits, budgets, timeout and live publishing.
pub struct OverWebSocket;

/// The request's hooks, in one extension:
/// - persisted queries are resolved before anything else (`crate::persisted`);
/// - a document that does not parse or does not validate (unknown fields, wrong argument
///   types, …) is the client's input, `BAD_USER_INPUT`, with `extensions.reason`
///   `GRAPHQL_PARSE_FAILED` or `GRAPHQL_VALIDATION_FAILED` and, where the message names one, the
///   offending `extensions.field`;
/// - right after parsing, the alias limit and a calling API client's scopes are checked, and
///   every mutation field past the first is charged to the request budgets, so a refused
///   document runs no resolver;
/// - the name of the operation being run goes on the request's log span;
/// - subscription results get the same error codes as HTTP responses.
#[derive(Default, Clone)]
struct RequestHooks {
    persisted: Option<Arc<crate::persisted::PersistedQueries>>,
    documents: Option<Arc<crate::persisted::DocumentCache>>,
    max_aliases: Option<usize>,
    max_depth: Option<usize>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    requests: Option<Arc<crate::limits::RequestLimiter>>,
}

impl ExtensionFactory for RequestHooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

fn with_reason(mut err: ServerError, reason: &str) -> ServerError {
    if err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
    {
        return err; // coded already (e.g. the alias limit)
    }
    // async-graphql quotes the names it complains about: `Unknown field "x" on type "Y"`,
    // `Invalid value for argument "input", …`. The first one is the offending field.
    let field = err
        .message
        .split('"')
        .nth(1)
        .filter(|f| !f.is_empty() && f.len() <= 100)
        .map(str::to_owned);
    // Our own limit among async-graphql's messages: written in the client's language like
    // the other limits (`crate::limits`). The rest are for the client's developers: English.
    if err.message == TOO_COMPLEX {
        err.source = Some(Arc::new(msg!(
            "Query is too complex.",
            "查询过于复杂，请减少字段或每页条数"
        )));
    }
    let ext = err.extensions.get_or_insert_with(Default::default);
    ext.set("code", "BAD_USER_INPUT");
    ext.set("reason", reason);
    if let Some(field) = field {
        ext.set("field", field);
    }
    err
}

/// async-graphql's message for a document over the complexity limit.
const TOO_COMPLEX: &str = "Query is too complex.";

/// `extensions.reason` of a document that does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// `extensions.reason` of a document that does not validate.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

#[async_graphql::async_trait::async_trait]
impl Extension for RequestHooks {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: async_graphql::Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        if let Some(p) = &self.persisted {
            p.resolve(&mut request)?;
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let cached = self.documents.as_ref().and_then(|c| c.get(query));
        let doc = match cached {
            Some(doc) => doc,
            None => {
                let doc = next
                    .run(ctx, query, variables)
                    .await
                    .map_err(|e| with_reason(e, PARSE_FAILED))?;
                if let Some(c) = &self.documents {
                    c.put(query, &doc);
                }
                doc
            }
        };
        if let Some(max) = self.max_aliases {
            crate::limits::check_aliases(&doc, max)?;
        }
        if let Some(max) = self.max_depth {
            crate::limits::check_depth(&doc, max)?;
        }
        if ctx.data_opt::<OverWebSocket>().is_some()
            && doc.operations.iter().any(|(_, op)| {
                op.node.ty != async_graphql::parser::types::OperationType::Subscription
            })
        {
            return Err(crate::i18n::coded_error(
                msg!(
                    "only subscriptions run over the WebSocket; send queries and mutations over HTTP",
                    "WebSocket 只用于订阅；查询和变更请通过 HTTP 发送"
                ),
                "BAD_REQUEST",
            ));
        }
        if let Some(viewer) = ctx.data_opt::<Arc<crate::auth::Viewer>>() {
            if let Some(grant) = viewer.grant() {
                crate::access::check_document(&ctx.schema_env.registry, grant, &doc)?;
            }
            if viewer.is_kiosk() {
                crate::kiosk::service::check_document(&doc)?;
            }
            // The request was charged once on arrival; every further mutation field (aliases)
            // writes like a request of its own, so it is charged as one before any runs.
            let extra = crate::limits::mutation_fields(&doc).saturating_sub(1);
            if extra > 0
                && let Some(limiter) = &self.requests
                && let Err(limited) = limiter.check(viewer.account_id(), viewer.client_addr, extra)
            {
                if let (Some(m), crate::error::AppError::RateLimited { limit, .. }) =
                    (&self.metrics, &limited)
                {
                    m.rate_limited(limit);
                }
                let mut err = ServerError::new(limited.to_string(), None);
                err.source = Some(Arc::new(limited));
                return Err(err);
            }
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errs| {
            errs.into_iter()
                .map(|e| with_reason(e, VALIDATION_FAILED))
                .collect()
        })
    }

    /// Subscription results get the same error codes as HTTP responses (the HTTP handler
    /// finalizes its own).
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: async_graphql::futures_util::stream::BoxStream<'s, async_graphql::Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> async_graphql::futures_util::stream::BoxStream<'s, async_graphql::Response> {
        use async_graphql::futures_util::StreamExt;
        let lang = ctx.data_opt::<Lang>().copied().unwrap_or_default();
        next.run(ctx, stream)
            .map(move |mut r| {
                crate::error::finalize_errors(&mut r.errors, lang);
                r
            })
            .boxed()
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        tracing::Span::current().record("operation", operation_name.unwrap_or("anonymous"));
        let started = std::time::Instant::now();
        // Relations load one statement per level (`crate::batch`), unless a differential
        // test asked for the plain per-field path.
        let mut response = match ctx.data_opt::<crate::AppState>() {
            Some(state) if ctx.data_opt::<crate::batch::PerField>().is_none() => {
                crate::batch::drive(state.db.clone(), next.run(ctx, operation_name)).await
            }
            _ => next.run(ctx, operation_name).await,
        };
        // Over the WebSocket this runs once per subscription event: those are not requests.
        let subscription_event = ctx.data_opt::<OverWebSocket>().is_some();
        if let Some(metrics) = &self.metrics {
            let lang = ctx.data_opt::<Lang>().copied().unwrap_or_default();
            crate::error::finalize_errors(&mut response.errors, lang);
            let outcome = response
                .errors
                .first()
                .and_then(|e| e.extensions.as_ref()?.get("code").cloned());
            let outcome = match outcome {
                Some(async_graphql::Value::String(code)) => code,
                Some(_) => "INTERNAL".to_owned(),
                None => "ok".to_owned(),
            };
            if subscription_event {
                metrics.subscription_event(&outcome);
                return response;
            }
            // The schema's own throttles name themselves on the error (not from the path,
            // where a client's alias would choose the label).
            if let Some(crate::error::AppError::RateLimited { limit, .. }) =
                response.errors.first().and_then(|e| {
                    e.source
                        .as_deref()?
                        .downcast_ref::<crate::error::AppError>()
                })
            {
                metrics.rate_limited(limit);
            }
            metrics.operation(operation_name, &outcome, started.elapsed().as_secs_f64());
        }
        response
    }
}
