//! GraphQL surface of notifications: `me.notifications` and `markNotificationsRead`.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::notification::{self, NotificationKind};

use super::service;
use crate::{
    context::ContextExt,
    i18n::Msg,
    ids::{self, NodeType},
    pagination::{Conn, PageArgs, Total, connection},
};

/// Something a person is told about a change that concerns them.
pub struct Notification(pub notification::Model);

/// The headline of a notification of `kind`, in both languages.
fn headline(kind: NotificationKind) -> Msg {
    match kind {
        NotificationKind::SignedUp => {
            msg!("You have a place on the shift", "报名成功，您已获得名额")
        }
        NotificationKind::Waitlisted => msg!(
            "You are on the shift's waitlist",
            "您已进入候补名单，有空位时将自动转正"
        ),
        NotificationKind::Promoted => msg!(
            "A place came free: you are on the shift now",
            "候补转正：您已获得该班次的名额"
        ),
        NotificationKind::SignupCancelled => msg!(
            "The organizers cancelled your sign-up",
            "组织者取消了您的报名"
        ),
        NotificationKind::ShiftCancelled => msg!(
            "The shift you signed up for was cancelled",
            "您报名的班次已取消"
        ),
    }
}

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
}
