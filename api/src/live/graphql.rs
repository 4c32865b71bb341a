//! GraphQL subscriptions, served over WebSocket at `/graphql/ws`. Every subscription needs the
//! access token given in `connection_init`; each one ends (`complete`) when the server shuts
//! down.

use async_graphql::{
    Context, ID, Result, Subscription,
    futures_util::{Stream, StreamExt, stream},
};
use entity::check_event;
use sea_orm::EntityTrait;
use tokio::sync::broadcast::error::RecvError;

use super::Change;
use crate::{
    AppState, authz,
    checkins::graphql::CheckEvent,
    context::ContextExt,
    error::{AppError, Noun},
    help::graphql::HelpOffer,
    ids::{self, NodeType},
    shifts::{graphql::Shift, service as shifts},
    signups::{graphql::Signup, service as signups},
};

/// Turn the hub's changes into a stream of values: `pick` chooses the changes that matter (and
/// what to load for them), `load` reads the current state. When the subscriber lagged behind,
/// `on_lag` says what to load instead (the current state is all that matters).
fn watch<T, P, L, F>(
    state: AppState,
    pick: P,
    on_lag: Option<i64>,
    load: L,
) -> impl Stream<Item = Result<T>>
where
    T: Send + 'static,
    P: Fn(&Change) -> Option<i64> + Send + 'static,
    L: Fn(AppState, i64) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = Result<Option<T>>> + Send,
{
    let rx = state.live.subscribe();
    let shutdown = state.live.shutting_down();
    // Counted while the stream lives (dropped when the client stops or the server shuts down).
    let counted = state.live.subscription();
    stream::unfold(
        (rx, state, pick, load, counted),
        move |(mut rx, state, pick, load, counted)| async move {
            loop {
                let key = match rx.recv().await {
                    Ok(change) => match pick(&change) {
                        Some(k) => k,
                        None => continue,
                    },
                    Err(RecvError::Lagged(_)) => match on_lag {
                        Some(k) => k,
                        None => continue,
                    },
                    Err(RecvError::Closed) => return None,
                };
                match load(state.clone(), key).await {
                    Ok(Some(v)) => return Some((Ok(v), (rx, state, pick, load, counted))),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), (rx, state, pick, load, counted))),
                }
            }
        },
    )
    .take_until(shutdown)
}

/// Live updates.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates over WebSocket (`/graphql/ws`); the access token goes in `connection_init`.
#[Subscription]
impl SubscriptionRoot {
    /// A shift whenever its counts or details change (sign-ups, cancellations, promotions,
    /// check-ins). Only shifts the caller may see.
    async fn shift_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the shift.")] shift_id: ID,
    ) -> Result<impl Stream<Item = Result<Shift>> + use<>> {
        let viewer = ctx.require_account().await?.clone();
        let key = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let state = ctx.state().clone();
        shifts::get_visible(&state.db, Some(&viewer), key)
            .await?
            .ok_or(AppError::NotFound(Noun::Shift))?;
        // One task reads the shift once per change and hands the value to every subscriber.
        let feed = state.shift_feeds.watch(
            &state,
            key,
            |c, key| matches!(*c, Change::Shift { shift_id } if shift_id == key),
            |state, id| async move { shifts::snapshot(&state.db, id).await },
        );
        let rx = feed.receiver();
        let shutdown = state.live.shutting_down();
        let counted = state.live.subscription();
        Ok(stream::unfold(
            (rx, feed, state, viewer, counted),
            |(mut rx, feed, state, viewer, counted)| async move {
                loop {
                    rx.changed().await.ok()?;
                    let Some(snapshot) = rx.borrow_and_update().clone() else {
                        continue;
                    };
                    // Published is public for good; an unpublished event's shift is its
                    // managers' only, asked of the database for them alone.
                    let visible = snapshot.event.published_at.is_some()
                        || shifts::get_visible(&state.db, Some(&viewer), snapshot.shift.id)
                            .await
                            .is_ok_and(|s| s.is_some());
                    if visible {
                        let shift = Shift::from_snapshot(&snapshot);
                        return Some((Ok(shift), (rx, feed, state, viewer, counted)));
                    }
                }
            },
        )
        .take_until(shutdown))
    }

    /// Each notification written for the caller from now on, as it is written (categories
    /// switched off for the app excepted). Nothing is lost between events: each one reads
    /// everything newer than the last sent.
    async fn notification_received(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<crate::notifications::graphql::Notification>> + use<>>
    {
        crate::notifications::graphql::received(ctx).await
    }

    /// The caller's sign-ups as they change: promotion from the waitlist, cancellation by the
    /// organizer, check-in, no-show.
    async fn my_signup_updated(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Signup>> + use<>> {
        let me = ctx.require_account().await?.id;
        Ok(watch(
            ctx.state().clone(),
            move |c| match *c {
                Change::Signup {
                    signup_id,
                    account_id,
                    ..
                } if account_id == me => Some(signup_id),
                _ => None,
            },
            None,
            |state, id| async move { Ok(signups::get(&state.db, id).await?.map(Signup::from)) },
        ))
    }

    /// Help requests offered to the caller, as staff dispatch them (`dispatchHelpRequest`).
    async fn help_offer_received(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<HelpOffer>> + use<>> {
        let me = ctx.require_account().await?.id;
        Ok(watch(
            ctx.state().clone(),
            move |c| match *c {
                Change::HelpOffer {
                    offer_id,
                    volunteer_id,
                } if volunteer_id == me => Some(offer_id),
                _ => None,
            },
            None,
            move |state, id| async move {
                Ok(crate::help::service::get_offer(&state.db, id)
                    .await?
                    .filter(|o| {
                        o.volunteer_id == me && o.status == entity::help_offer::OfferStatus::Open
                    })
                    .map(HelpOffer))
            },
        ))
    }

    /// Who checks in to an event's shifts, as it happens. The event's organization's staff
    /// only (`FORBIDDEN`).
    async fn event_check_ins(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the event.")] event_id: ID,
    ) -> Result<impl Stream<Item = Result<CheckEvent>> + use<>> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CharityEvent, &event_id, "eventId")?;
        let state = ctx.state().clone();
        let event = entity::charity_event::Entity::find_by_id(key)
            .one(&state.db)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound(Noun::Event))?;
        if !authz::is_staff(&state.db, viewer, event.organization_id).await? {
            return Err(AppError::Forbidden(msg!(
                "only the organization's staff follow its check-ins",
                "仅该组织的工作人员可查看签到动态"
            ))
            .into());
        }
        Ok(watch(
            state,
            move |c| match *c {
                Change::CheckIn {
                    event_id,
                    check_event_id,
                    ..
                } if event_id == key => Some(check_event_id),
                _ => None,
            },
            None,
            |state, id| async move {
                Ok(check_event::Entity::find_by_id(id)
                    .one(&state.db)
                    .await
                    .map_err(AppError::from)?
                    .map(CheckEvent))
            },
        ))
    }
}
