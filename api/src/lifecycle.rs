//! Statuses: how messages name them, and moving a row through them: one conditional `UPDATE` from the statuses a move is
//! allowed from, so two concurrent moves cannot both win. Events and campaigns share it.

use chrono::Utc;
use entity::{account, campaign, charity_event as event};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Value,
    sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult},
};

/// A table whose rows move through statuses and are stamped when published.
pub trait Lifecycle: EntityTrait {
    /// The status column's type.
    type Status: ActiveEnum + Into<Value> + Copy + PartialEq + Send + Sync + 'static;
    /// What a row is called in messages ("event", "campaign").
    const NOUN: &'static str;
    /// What a row is called in Chinese messages ("活动", "主题活动").
    const NOUN_ZH: &'static str;
    /// The primary key.
    const ID: Self::Column;
    /// The status.
    const STATUS: Self::Column;
    /// Stamped on every move.
    const UPDATED_AT: Self::Column;
    /// Stamped on a move to [`Lifecycle::PUBLISHED`]; a row is public once it is set.
    const PUBLISHED_AT: Self::Column;
    /// The organization that runs it.
    const ORGANIZATION_ID: Self::Column;
    /// The status that makes a row public.
    const PUBLISHED: Self::Status;
}

impl Lifecycle for event::Entity {
    type Status = event::EventStatus;
    const NOUN: &'static str = "event";
    const NOUN_ZH: &'static str = "活动";
    const ID: event::Column = event::Column::Id;
    const STATUS: event::Column = event::Column::Status;
    const UPDATED_AT: event::Column = event::Column::UpdatedAt;
    const PUBLISHED_AT: event::Column = event::Column::PublishedAt;
    const ORGANIZATION_ID: event::Column = event::Column::OrganizationId;
    const PUBLISHED: event::EventStatus = event::EventStatus::Published;
}

impl Lifecycle for campaign::Entity {
    type Status = campaign::CampaignStatus;
    const NOUN: &'static str = "campaign";
    const NOUN_ZH: &'static str = "主题活动";
    const ID: campaign::Column = campaign::Column::Id;
    const STATUS: campaign::Column = campaign::Column::Status;
    const UPDATED_AT: campaign::Column = campaign::Column::UpdatedAt;
    const PUBLISHED_AT: campaign::Column = campaign::Column::PublishedAt;
    const ORGANIZATION_ID: campaign::Column = campaign::Column::OrganizationId;
    const PUBLISHED: campaign::CampaignStatus = campaign::CampaignStatus::Published;
}

/// Rows `viewer` may see: published ones (once published, always: a cancelled event stays
/// readable), and any of organizations the viewer manages.
pub fn visible_to<E: Lifecycle>(viewer: Option<&account::Model>) -> Condition {
    let public = Condition::all().add(E::PUBLISHED_AT.is_not_null());
    match viewer {
        Some(v) => match authz::managed_orgs(v, E::ORGANIZATION_ID) {
            None => Condition::all(),
            Some(managed) => Condition::any().add(public).add(managed),
        },
        None => public,
    }
}

/// A status as messages say it, in English and in Chinese: (`published`, `已发布`),
/// (`no_show`, `缺席`).
pub fn word<S: StatusWord>(status: &S) -> (String, &'static str) {
    (status.to_value().to_lowercase(), status.zh())
}

/// A status's name in Chinese messages (the English one is its value, in lower case).
pub trait StatusWord: ActiveEnum<Value = String> {
    /// The status in Chinese.
    fn zh(&self) -> &'static str;
}

impl StatusWord for event::EventStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Published => "已发布",
            Self::Cancelled => "已取消",
            Self::Completed => "已结束",
        }
    }
}

impl StatusWord for campaign::CampaignStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Published => "已发布",
            Self::Closed => "已结束",
            Self::Cancelled => "已取消",
        }
    }
}

impl StatusWord for entity::shift::ShiftStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Open => "开放报名",
            Self::Cancelled => "已取消",
        }
    }
}

impl StatusWord for entity::signup::SignupStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Confirmed => "已确认",
            Self::Waitlisted => "候补中",
            Self::Cancelled => "已取消",
            Self::Attended => "已出席",
            Self::NoShow => "缺席",
        }
    }
}

impl StatusWord for entity::service_record::RecordStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Pending => "待审核",
            Self::Approved => "已通过",
            Self::Rejected => "已驳回",
        }
    }
}

impl StatusWord for entity::help_request::HelpStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Reported => "已上报",
            Self::Dispatched => "已派单",
            Self::Accepted => "已接单",
            Self::Completed => "已完成",
            Self::Cancelled => "已取消",
        }
    }
}

impl StatusWord for entity::help_offer::OfferStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Open => "待回应",
            Self::Accepted => "已接受",
            Self::Declined => "已婉拒",
            Self::Closed => "已关闭",
        }
    }
}

impl StatusWord for entity::micro_wish::WishStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Open => "待认领",
            Self::Claimed => "已认领",
            Self::Fulfilled => "已实现",
            Self::Confirmed => "已确认",
            Self::Cancelled => "已取消",
        }
    }
}

impl StatusWord for entity::donation::DonationStatus {
    fn zh(&self) -> &'static str {
        match self {
            Self::Pending => "待支付",
            Self::Confirmed => "已到账",
            Self::Expired => "已过期",
        }
    }
}

/// Move row `id` from one of `from` to `to`. `current` is the status the caller read, for the
/// message when the row was not in `from` (or moved meanwhile): a `CONFLICT`.
pub async fn transition<E, C>(
    db: &C,
    id: i64,
    current: E::Status,
    from: &[E::Status],
    to: E::Status,
) -> AppResult<()>
where
    E: Lifecycle,
    E::Status: StatusWord,
    C: ConnectionTrait,
{
    let now = Utc::now();
    let mut update = E::update_many()
        .col_expr(E::STATUS, Expr::value(to))
        .col_expr(E::UPDATED_AT, Expr::value(now))
        .filter(E::ID.eq(id))
        .filter(E::STATUS.is_in(from.iter().copied()));
    if to == E::PUBLISHED {
        update = update.col_expr(E::PUBLISHED_AT, Expr::value(now));
    }
    if update.exec(db).await?.rows_affected == 0 {
        let (noun, noun_zh) = (E::NOUN, E::NOUN_ZH);
        let ((was, was_zh), (to, to_zh)) = (word(&current), word(&to));
        return Err(AppError::Conflict(msg!(
            "the {noun} is {was} and cannot become {to}",
            "该{noun_zh}当前为“{was_zh}”，不能改为“{to_zh}”"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use entity::signup::SignupStatus;

    #[test]
    fn messages_name_a_status_in_lower_case() {
        assert_eq!(
            super::word(&SignupStatus::NoShow),
            ("no_show".into(), "缺席")
        );
        assert_eq!(
            super::word(&SignupStatus::Confirmed),
            ("confirmed".into(), "已确认")
        );
    }
}
