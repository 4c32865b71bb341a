//! GraphQL surface of notifications: `me.notifications`, `markNotificationsRead`, the
//! `notificationReceived` subscription, settings and WeChat consents, and the admin's dead
//! letters.

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
    futures_util::{Stream, StreamExt, stream},
};
use chrono::{DateTime, Utc};
use entity::{
    notification::{self, NotificationCategory, NotificationChannel, NotificationKind},
    notification_delivery::{self as delivery, DeliveryStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, Iterable, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::broadcast::error::RecvError;

use super::{outbox, prefs, quiet::Quiet, schedule, service, texts::headline, wechat};
use crate::{
    context::ContextExt,
    error::AppError,
    ids::{self, NodeType},
    live::Change,
    pagination::{Conn, PageArgs, Total, connection, fetch_page},
};

/// Something a person is told about a change that concerns them.
pub struct Notification(pub notification::Model);

/// Something a person is told about a change that concerns them.
#[Object]
impl Notification {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Notification, self.0.id)
    }

    /// What happened.
    async fn kind(&self) -> NotificationKind {
        self.0.kind
    }

    /// What happened, in words, in the caller's language (`Accept-Language`).
    async fn title(&self, ctx: &Context<'_>) -> String {
        headline(self.0.kind).get(ctx.lang()).to_owned()
    }

    /// The shift it is about.
    async fn shift(&self, ctx: &Context<'_>) -> Result<Option<crate::shifts::graphql::Shift>> {
        match self.0.shift_id {
            // The person's own sign-up's shift: theirs to see.
            Some(id) => Ok(Some(crate::shifts::graphql::required(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The sign-up it is about.
    async fn signup(&self, ctx: &Context<'_>) -> Result<Option<crate::signups::graphql::Signup>> {
        let Some(id) = self.0.signup_id else {
            return Ok(None);
        };
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::signup::Entity>::new,
        )
        .await?
        .map(crate::signups::graphql::Signup::from))
    }

    /// Global ID of what else it is about, by the kind: the help offer (`HELP_OFFERED`,
    /// `HELP_WITHDRAWN`), service record (`RECORD_*`), micro-wish (`WISH_CLAIM_LAPSING`),
    /// invitation (`INVITED`), organization (`RECORDS_AWAITING_REVIEW`, `CARE_TASKS_OVERDUE`),
    /// care alert (`CARE_ALERT`, see `careAlerts`) or care task (`CARE_VISIT_OVERDUE`, see
    /// `myCareTasks`); resolve the others with `node(id:)`. `null` for the rest.
    async fn subject_id(&self) -> Option<ID> {
        use NotificationKind as K;
        let ty = match self.0.kind {
            K::HelpOffered | K::HelpWithdrawn => NodeType::HelpOffer,
            K::RecordApproved | K::RecordRejected | K::RecordCorrected => NodeType::ServiceRecord,
            K::WishClaimLapsing => NodeType::MicroWish,
            K::Invited => NodeType::Invitation,
            K::RecordsAwaitingReview | K::CareTasksOverdue => NodeType::Organization,
            K::CareAlert => NodeType::CareVisit,
            K::CareVisitOverdue => NodeType::CareTask,
            _ => return None,
        };
        self.0.subject_id.map(|id| ids::encode(ty, id))
    }

    /// Urgent: it was pushed even in quiet hours.
    async fn urgent(&self) -> bool {
        self.0.urgent
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the person marked it read (`null`: unread).
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

/// `account.notifications`: the caller's own (checked by the caller of this function).
pub async fn of_account(
    ctx: &Context<'_>,
    account: i64,
    first: Option<i32>,
    after: Option<String>,
    unread_only: bool,
) -> Result<Conn<Notification>> {
    let state = ctx.state();
    let page = PageArgs::new(first, after.as_deref(), &state.config)?;
    let rows = service::list(&state.db, account, unread_only, page).await?;
    Ok(connection(
        rows,
        page.after.is_some(),
        Total::of(&state.db, service::of_account(account, unread_only)),
        |n| n.id,
        Notification,
    ))
}

/// `HH:MM` (city time) as minutes after midnight.
fn minutes(raw: &str, field: &str) -> Result<u16, AppError> {
    let bad = || {
        AppError::bad_input(
            field,
            msg!(
                "a time of day as HH:MM, 00:00 to 23:59",
                "请以 HH:MM 填写时间，00:00 至 23:59"
            ),
        )
    };
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Quiet hours: pushes wait until they end (urgent help offers excepted). City time.
#[derive(SimpleObject)]
pub struct QuietHours {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM` (the next day when earlier than `from`).
    pub until: String,
}

/// Quiet hours to set.
#[derive(InputObject)]
pub struct QuietHoursInput {
    /// Start, `HH:MM` city time.
    pub from: String,
    /// End, `HH:MM` city time (the next day when earlier than `from`); not equal to `from`.
    pub until: String,
}

/// One category on one channel.
#[derive(SimpleObject)]
pub struct NotificationPreference {
    /// What the notifications are about.
    pub category: NotificationCategory,
    /// Where they go.
    pub channel: NotificationChannel,
    /// On or off.
    pub enabled: bool,
}

/// A category switched on or off on a channel.
#[derive(InputObject)]
pub struct NotificationPreferenceInput {
    /// What the notifications are about.
    pub category: NotificationCategory,
    /// Where they go.
    pub channel: NotificationChannel,
    /// On or off.
    pub enabled: bool,
}

/// Consents left for one mini-program message template.
#[derive(SimpleObject)]
pub struct WechatConsent {
    /// The template ID.
    pub template_id: String,
    /// Messages with it still allowed (each accepted `wx.requestSubscribeMessage` adds one).
    pub remaining: i32,
}

/// A person's notification settings.
pub struct NotificationSettings {
    settings: prefs::Settings,
    account: i64,
}

/// A person's notification settings.
#[Object]
impl NotificationSettings {
    /// Quiet hours (`null`: none). Default 22:00 to 08:00.
    async fn quiet_hours(&self) -> Option<QuietHours> {
        self.settings.quiet.map(|q| QuietHours {
            from: hhmm(q.from),
            until: hhmm(q.until),
        })
    }

    /// Unsubscribed from everything beyond the app (no SMS, no mini-program messages).
    async fn unsubscribed(&self) -> bool {
        self.settings.unsubscribed
    }

    /// Every category on every channel.
    async fn preferences(&self) -> Vec<NotificationPreference> {
        NotificationCategory::iter()
            .flat_map(|category| {
                NotificationChannel::iter().map(move |channel| (category, channel))
            })
            .map(|(category, channel)| NotificationPreference {
                category,
                channel,
                enabled: !self.settings.off.contains(&(category, channel)),
            })
            .collect()
    }

    /// Whether a WeChat mini-program user is linked (`linkWechat`).
    async fn wechat_linked(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(entity::wechat_link::Entity::find_by_id(self.account)
            .one(&ctx.state().db)
            .await?
            .is_some())
    }

    /// Mini-program message consents left, per template.
    async fn wechat_consents(&self, ctx: &Context<'_>) -> Result<Vec<WechatConsent>> {
        Ok(entity::wechat_consent::Entity::find()
            .filter(entity::wechat_consent::Column::AccountId.eq(self.account))
            .order_by_asc(entity::wechat_consent::Column::TemplateId)
            .all(&ctx.state().db)
            .await?
            .into_iter()
            .map(|c| WechatConsent {
                template_id: c.template_id,
                remaining: c.remaining,
            })
            .collect())
    }
}

/// `account.notificationSettings` (the caller checked it is the account itself).
pub async fn settings_of(ctx: &Context<'_>, account: i64) -> Result<NotificationSettings> {
    Ok(NotificationSettings {
        settings: prefs::of(&ctx.state().db, account).await?,
        account,
    })
}

/// Changes to your notification settings; what is left out stays.
#[derive(InputObject)]
pub struct NotificationSettingsInput {
    /// Categories to switch on or off per channel.
    pub preferences: Option<Vec<NotificationPreferenceInput>>,
    /// New quiet hours; `null` for none.
    pub quiet_hours: MaybeUndefined<QuietHoursInput>,
    /// `true`: nothing beyond the app from now on, including what is already queued; `false`:
    /// subscribe again.
    pub unsubscribed: Option<bool>,
}

/// A mini-program message template and what it carries.
#[derive(SimpleObject)]
pub struct NotificationTemplate {
    /// The kind of notification it carries.
    pub kind: NotificationKind,
    /// Its template ID, for `wx.requestSubscribeMessage`.
    pub template_id: String,
}

/// One channel's delivery of a notification: a dead letter in the admin's list.
pub struct NotificationDelivery(pub delivery::Model);

/// One channel's delivery of a notification.
#[Object]
impl NotificationDelivery {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::NotificationDelivery, self.0.id)
    }

    /// Where it went.
    async fn channel(&self) -> NotificationChannel {
        self.0.channel
    }

    /// Where it stands.
    async fn status(&self) -> DeliveryStatus {
        self.0.status
    }

    /// Tries so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// Why the last try failed (the provider's code and message; no personal data).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// The kind of notification.
    async fn kind(&self, ctx: &Context<'_>) -> Result<Option<NotificationKind>> {
        Ok(notification::Entity::find_by_id(self.0.notification_id)
            .select_only()
            .column(notification::Column::Kind)
            .into_tuple::<NotificationKind>()
            .one(&ctx.state().db)
            .await?)
    }

    /// When it was queued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed (the last try).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// `FORBIDDEN` unless the caller is a system administrator.
async fn require_system_admin(ctx: &Context<'_>) -> Result<(), AppError> {
    if ctx.require_account().await?.is_system_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "only a system administrator may do this",
            "只有系统管理员可以执行此操作"
        )))
    }
}

/// Notification queries.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The mini-program message templates, to ask consent for with
    /// `wx.requestSubscribeMessage` (empty when mini-program messages are not set up).
    async fn notification_templates(&self, ctx: &Context<'_>) -> Result<Vec<NotificationTemplate>> {
        ctx.require_account().await?;
        Ok(match &ctx.state().channels.wechat {
            Some(w) => NotificationKind::iter()
                .filter_map(|kind| {
                    w.templates.of(kind).map(|t| NotificationTemplate {
                        kind,
                        template_id: t.to_owned(),
                    })
                })
                .collect(),
            None => Vec::new(),
        })
    }

    /// Deliveries given up on (dead letters), oldest first, with the reason. System
    /// administrators only.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn notification_dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only this channel.")] channel: Option<NotificationChannel>,
    ) -> Result<Conn<NotificationDelivery>> {
        require_system_admin(ctx).await?;
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = fetch_page(
            &state.db,
            outbox::dead_letters(channel),
            delivery::Column::Id,
            page,
        )
        .await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, outbox::dead_letters(channel)),
            |d| d.id,
            NotificationDelivery,
        ))
    }
}

/// Notification mutations.
#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Mark your notifications read: those of `ids` (others' are ignored), or all of them
    /// when `ids` is left out. Returns how many were unread and are read now.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which notifications; all of yours when left out.")] ids: Option<Vec<ID>>,
    ) -> Result<i32> {
        let viewer = ctx.require_account().await?;
        let keys = ids
            .map(|ids| {
                ids.iter()
                    .map(|id| ids::decode(NodeType::Notification, id, "ids"))
                    .collect::<Result<Vec<i64>, _>>()
            })
            .transpose()?;
        let n = service::mark_read(&ctx.state().db, viewer.id, keys.as_deref()).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Change your notification settings: categories per channel, quiet hours, unsubscribe.
    /// Takes effect at once, also for messages already queued.
    async fn update_notification_settings(
        &self,
        ctx: &Context<'_>,
        input: NotificationSettingsInput,
    ) -> Result<NotificationSettings> {
        let viewer = ctx.require_account().await?;
        let quiet = match input.quiet_hours {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(q) => {
                let from = minutes(&q.from, "input.quietHours.from")?;
                let until = minutes(&q.until, "input.quietHours.until")?;
                if from == until {
                    return Err(AppError::bad_input(
                        "input.quietHours.until",
                        msg!(
                            "quiet hours must end at another time than they start (null: none)",
                            "免打扰的结束时间不能与开始时间相同（不需要请设为 null）"
                        ),
                    )
                    .into());
                }
                Some(Some(Quiet { from, until }))
            }
        };
        let change = prefs::Change {
            preferences: input
                .preferences
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.category, p.channel, p.enabled))
                .collect(),
            quiet,
            unsubscribed: input.unsubscribed,
        };
        let settings = prefs::update(&ctx.state().db, viewer.id, change).await?;
        Ok(NotificationSettings {
            settings,
            account: viewer.id,
        })
    }

    /// Link the WeChat mini-program user signed in on this phone (the `code` of `wx.login`),
    /// so notifications can reach them as subscribe messages. A WeChat user is linked to one
    /// account: linking it here unlinks it elsewhere.
    async fn link_wechat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code `wx.login` returned (valid for five minutes, once).")]
        code: String,
    ) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        if code.is_empty() || code.len() > 128 || !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::bad_input(
                "code",
                msg!("not a wx.login code", "不是有效的 wx.login 登录凭证"),
            )
            .into());
        }
        let state = ctx.state();
        let Some(w) = &state.channels.wechat else {
            return Err(AppError::ProviderUnavailable(msg!(
                "WeChat mini-program messages are not set up on this server",
                "本服务器未开通小程序订阅消息"
            ))
            .into());
        };
        let openid = Box::pin(w.openid(&code)).await?;
        wechat::link(&state.db, viewer.id, &openid).await?;
        Ok(true)
    }

    /// Record the templates you accepted in `wx.requestSubscribeMessage`: each allows one
    /// message with that template. Returns the consents left for each, in the order given.
    async fn record_wechat_consents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template IDs answered `accept`.")] template_ids: Vec<String>,
    ) -> Result<Vec<WechatConsent>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let Some(w) = &state.channels.wechat else {
            return Err(AppError::ProviderUnavailable(msg!(
                "WeChat mini-program messages are not set up on this server",
                "本服务器未开通小程序订阅消息"
            ))
            .into());
        };
        if template_ids.len() > 20 {
            return Err(AppError::bad_input(
                "templateIds",
                msg!("at most 20 templates at once", "一次最多 20 个模板"),
            )
            .into());
        }
        let left = wechat::consent(&state.db, viewer.id, &template_ids, &w.templates).await?;
        Ok(template_ids
            .into_iter()
            .zip(left)
            .map(|(template_id, remaining)| WechatConsent {
                template_id,
                remaining,
            })
            .collect())
    }

    /// Set how long before its shifts an organization reminds signed-up volunteers, in
    /// minutes (default 1440 and 120: a day and two hours; empty: no reminders). At most five,
    /// each 5 to 10,080. The organization's organizers and administrators. Returns the
    /// offsets, largest first.
    async fn set_organization_reminders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the organization.")] organization_id: ID,
        #[graphql(desc = "Minutes before each shift's start.")] minutes_before: Vec<i32>,
    ) -> Result<Vec<i32>> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let db = &ctx.state().db;
        crate::organizations::service::get(db, org)
            .await?
            .ok_or(AppError::NotFound(crate::error::Noun::Organization))?;
        crate::authz::require_manager(db, viewer, org).await?;
        Ok(schedule::set_offsets(db, org, &minutes_before).await?)
    }

    /// Put dead letters back in the queue with fresh tries: those of `ids`, or all. Returns
    /// how many. System administrators only.
    async fn retry_notification_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which dead letters; all when left out.")] ids: Option<Vec<ID>>,
    ) -> Result<i32> {
        require_system_admin(ctx).await?;
        let keys = ids
            .map(|ids| {
                ids.iter()
                    .map(|id| ids::decode(NodeType::NotificationDelivery, id, "ids"))
                    .collect::<Result<Vec<i64>, _>>()
            })
            .transpose()?;
        let n = outbox::retry(&ctx.state().db, keys.as_deref(), Utc::now()).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// The notifications of `account` after `after`, as the app shows them (switched-off
/// categories are not pushed live).
async fn newer(
    state: &crate::AppState,
    account: i64,
    seen: &mut Seen,
) -> Result<Vec<notification::Model>, AppError> {
    let rows = notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account))
        .filter(notification::Column::Id.gt(seen.floor()))
        .order_by_asc(notification::Column::Id)
        .limit(500)
        .all(&state.db)
        .await?;
    let settings = prefs::of(&state.db, account).await?;
    Ok(rows
        .into_iter()
        .filter(|n| seen.first_time(n.id))
        .filter(|n| settings.allows(n.kind.category(), NotificationChannel::InApp))
        .collect())
}

/// What a `notificationReceived` stream has sent. Ids are taken before commit, so a
/// notification may commit after one with a higher id: each read looks [`Seen::LOOK_BACK`]
/// ids behind the highest sent and skips what it sent already.
struct Seen {
    highest: i64,
    sent: std::collections::BTreeSet<i64>,
}

impl Seen {
    const LOOK_BACK: i64 = 10_000;

    fn floor(&self) -> i64 {
        self.highest.saturating_sub(Self::LOOK_BACK)
    }

    /// Whether `id` is new (and from now on, seen).
    fn first_time(&mut self, id: i64) -> bool {
        if id <= self.floor() || !self.sent.insert(id) {
            return false;
        }
        self.highest = self.highest.max(id);
        let floor = self.floor();
        self.sent = self.sent.split_off(&floor);
        true
    }
}

/// `notificationReceived`: each notification written for the caller from now on.
pub async fn received(
    ctx: &Context<'_>,
) -> Result<impl Stream<Item = Result<Notification>> + use<>> {
    {
        let me = ctx.require_account().await?.id;
        let state = ctx.state().clone();
        // Only what comes after subscribing.
        let last: i64 = notification::Entity::find()
            .select_only()
            .column_as(notification::Column::Id.max(), "max")
            .filter(notification::Column::AccountId.eq(me))
            .into_tuple::<Option<i64>>()
            .one(&state.db)
            .await?
            .flatten()
            .unwrap_or(0);
        let rx = state.live.subscribe();
        let shutdown = state.live.shutting_down();
        let counted = state.live.subscription();
        let pending = std::collections::VecDeque::<notification::Model>::new();
        // Everything up to now counts as sent (only what comes after subscribing is new).
        let last = Seen {
            highest: last.saturating_add(Seen::LOOK_BACK),
            sent: std::collections::BTreeSet::new(),
        };
        Ok(stream::unfold(
            (rx, state, last, pending, counted),
            move |(mut rx, state, mut last, mut pending, counted)| async move {
                loop {
                    if let Some(n) = pending.pop_front() {
                        return Some((Ok(Notification(n)), (rx, state, last, pending, counted)));
                    }
                    match rx.recv().await {
                        Ok(Change::Notification { account_id }) if account_id == me => {}
                        // Lagged: read what is new anyway.
                        Err(RecvError::Lagged(_)) => {}
                        Ok(_) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                    match newer(&state, me, &mut last).await {
                        Ok(rows) => pending.extend(rows),
                        Err(e) => {
                            return Some((Err(e.into()), (rx, state, last, pending, counted)));
                        }
                    }
                }
            },
        )
        .take_until(shutdown))
    }
}
