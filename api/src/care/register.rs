//! The register of people served, independent of GraphQL.

use chrono::{NaiveDate, Utc};
use entity::{
    account,
    care_consent::{self as consent, ConsentGiver, ConsentMeans},
    care_recipient::{self as recipient, AgeGroup, RecipientStatus},
    organization::OrganizationKind,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    identity::vault::IdentityVault,
};

/// Most records one list returns.
pub const MAX_LISTED: u64 = 500;

/// Why a person is on the register (服务对象类别).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CareCategory {
    /// Living alone (独居老人).
    LivingAlone,
    /// Children live away (空巢老人).
    EmptyNest,
    /// Lost their only child (失独家庭).
    BereavedParents,
    /// A family under the special support policy (计生特扶家庭).
    SpecialSupportFamily,
    /// A child in difficulty (困境儿童).
    ChildInDifficulty,
    /// A person with a disability (残疾人).
    Disability,
    /// On the subsistence allowance (低保对象).
    SubsistenceAllowance,
    /// In extreme poverty (特困人员).
    ExtremePoverty,
}

impl CareCategory {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LivingAlone => "LIVING_ALONE",
            Self::EmptyNest => "EMPTY_NEST",
            Self::BereavedParents => "BEREAVED_PARENTS",
            Self::SpecialSupportFamily => "SPECIAL_SUPPORT_FAMILY",
            Self::ChildInDifficulty => "CHILD_IN_DIFFICULTY",
            Self::Disability => "DISABILITY",
            Self::SubsistenceAllowance => "SUBSISTENCE_ALLOWANCE",
            Self::ExtremePoverty => "EXTREME_POVERTY",
        }
    }

    const ALL: [Self; 8] = [
        Self::LivingAlone,
        Self::EmptyNest,
        Self::BereavedParents,
        Self::SpecialSupportFamily,
        Self::ChildInDifficulty,
        Self::Disability,
        Self::SubsistenceAllowance,
        Self::ExtremePoverty,
    ];

    /// Read a stored list.
    pub fn list_from_db(stored: &str) -> Vec<Self> {
        stored
            .split(',')
            .filter_map(|s| Self::ALL.into_iter().find(|c| c.as_str() == s))
            .collect()
    }

    fn list_to_db(list: &[Self]) -> String {
        let mut l = list.to_vec();
        l.sort();
        l.dedup();
        l.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// What a consent allows (同意事项).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum)]
pub enum ConsentPurpose {
    /// Keeping the record on the register (建档).
    Register,
    /// Regular care visits and calls (定期探访).
    CareVisits,
    /// Telling a volunteer on a visit what they need to know (向探访志愿者提供必要信息).
    ShareWithVolunteers,
}

impl ConsentPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "REGISTER",
            Self::CareVisits => "CARE_VISITS",
            Self::ShareWithVolunteers => "SHARE_WITH_VOLUNTEERS",
        }
    }

    /// Read a stored list.
    pub fn list_from_db(stored: &str) -> Vec<Self> {
        stored
            .split(',')
            .filter_map(|s| {
                [Self::Register, Self::CareVisits, Self::ShareWithVolunteers]
                    .into_iter()
                    .find(|p| p.as_str() == s)
            })
            .collect()
    }

    fn list_to_db(list: &[Self]) -> String {
        let mut l = list.to_vec();
        l.sort();
        l.dedup();
        l.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// Someone to call about the person (联系人).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// 1–30 characters.
    pub name: String,
    /// How they are related (子女, 邻居…), at most 10 characters.
    pub relation: String,
    /// A phone number, 5–20 digits (with `+`, `-` or spaces).
    pub phone: String,
}

// Personal data: never printed by accident (a `?value` in a log line, an `#[instrument]`).
impl std::fmt::Debug for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Contact([redacted])")
    }
}

impl std::fmt::Debug for Personal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Personal([redacted])")
    }
}

impl std::fmt::Debug for NewConsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewConsent([redacted])")
    }
}

/// The sealed part of a record.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Personal {
    /// Name, 1–30 characters.
    pub name: String,
    /// Home address, at most 200 characters.
    pub address: String,
    /// Where the home is.
    pub latitude: Option<f64>,
    /// Where the home is.
    pub longitude: Option<f64>,
    /// What they need (需求), at most 1,000 characters.
    pub needs: String,
    /// People to call, at most 5.
    pub contacts: Vec<Contact>,
}

/// A consent as recorded.
#[derive(Clone)]
pub struct NewConsent {
    /// Who gave it.
    pub given_by: ConsentGiver,
    /// Their name, 1–30 characters (sealed).
    pub name: String,
    /// What it allows.
    pub purposes: Vec<ConsentPurpose>,
    /// How it was given.
    pub means: ConsentMeans,
    /// The day (not in the future).
    pub given_on: NaiveDate,
}

/// A person to register.
#[derive(Clone, Debug)]
pub struct NewRecipient {
    /// The station or room keeping the record.
    pub organization: i64,
    /// The personal part.
    pub personal: Personal,
    /// Age group.
    pub age_group: AgeGroup,
    /// Categories, 1 to 8.
    pub categories: Vec<CareCategory>,
    /// The consent to keep the record (must allow `REGISTER`).
    pub consent: NewConsent,
}

/// One line of 1 to `max` characters, or (with `min` 0) an empty one; no control characters.
fn chars_in(s: &str, min: usize, max: usize, field: &str) -> AppResult<String> {
    if min == 0 && s.trim().is_empty() {
        return Ok(String::new());
    }
    crate::validate::title(s, field, max)
}

/// Check and tidy the personal part.
pub fn check_personal(p: &Personal) -> AppResult<Personal> {
    let name = chars_in(&p.name, 1, 30, "input.name")?;
    let address = chars_in(&p.address, 0, 200, "input.address")?;
    let needs = crate::validate::text(&p.needs, "input.needs", 1000)?;
    if p.latitude.is_some() != p.longitude.is_some() {
        return Err(AppError::bad_input(
            "input.location",
            msg!("give both latitude and longitude", "经纬度须同时提供"),
        ));
    }
    if let (Some(lat), Some(lng)) = (p.latitude, p.longitude) {
        crate::geo::GeoPoint::new(lat, lng, "input.location")?;
    }
    if p.contacts.len() > 5 {
        return Err(AppError::bad_input(
            "input.contacts",
            msg!("at most 5 contacts", "最多 5 位联系人"),
        ));
    }
    let mut contacts = Vec::with_capacity(p.contacts.len());
    for (i, c) in p.contacts.iter().enumerate() {
        let phone = c.phone.trim();
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !(5..=20).contains(&digits)
            || !phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' '))
        {
            return Err(AppError::bad_input(
                format!("input.contacts.{i}.phone"),
                msg!(
                    "a phone number of 5 to 20 digits",
                    "电话号码须为 5 至 20 位数字"
                ),
            ));
        }
        contacts.push(Contact {
            name: chars_in(&c.name, 1, 30, &format!("input.contacts.{i}.name"))?,
            relation: chars_in(&c.relation, 0, 10, &format!("input.contacts.{i}.relation"))?,
            phone: phone.to_owned(),
        });
    }
    Ok(Personal {
        name,
        address,
        latitude: p.latitude,
        longitude: p.longitude,
        needs,
        contacts,
    })
}

/// Check a consent for a person of `age_group`; `field` prefixes the error.
pub fn check_consent(
    c: &NewConsent,
    age_group: AgeGroup,
    today: NaiveDate,
    field: &str,
) -> AppResult<String> {
    let name = chars_in(&c.name, 1, 30, &format!("{field}.name"))?;
    if c.purposes.is_empty() {
        return Err(AppError::bad_input(
            format!("{field}.purposes"),
            msg!("name what the consent allows", "须注明同意事项"),
        ));
    }
    if age_group == AgeGroup::Minor && c.given_by != ConsentGiver::Guardian {
        return Err(AppError::bad_input(
            format!("{field}.givenBy"),
            msg!(
                "a minor's consent comes from a parent or guardian",
                "未成年人须由其监护人同意"
            ),
        ));
    }
    if c.given_on > today || c.given_on < today - chrono::Duration::days(3_660) {
        return Err(AppError::bad_input(
            format!("{field}.givenOn"),
            msg!(
                "the day it was given: not in the future, at most ten years ago",
                "同意日期不能晚于今天，也不能早于十年前"
            ),
        ));
    }
    Ok(name)
}

/// What each sealed field is bound to: its table, column and row, so a ciphertext copied to
/// another row or another column does not open.
pub fn aad(field: &str, id: i64) -> Vec<u8> {
    format!("tongxing/care/{field}/{id}").into_bytes()
}

fn seal(vault: &IdentityVault, id: i64, p: &Personal) -> AppResult<Vec<u8>> {
    let json = serde_json::to_string(p)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("sealing a record: {e}")))?;
    Ok(vault.seal_for(&aad("care_recipient.sealed", id), &json))
}

/// Open a record's personal part; `None` when erased (or unreadable under this key).
pub fn open(vault: &IdentityVault, r: &recipient::Model) -> Option<Personal> {
    let sealed = r.sealed.as_ref()?;
    serde_json::from_str(&vault.open_for(&aad("care_recipient.sealed", r.id), sealed)?).ok()
}

/// Open a consent's name; `None` when erased.
pub fn consent_name(vault: &IdentityVault, c: &consent::Model) -> Option<String> {
    vault.open_for(
        &aad("care_consent.sealed_name", c.id),
        c.sealed_name.as_ref()?,
    )
}

/// `FORBIDDEN` unless the viewer is staff of the record's organization (its members, the
/// social workers assigned to it, the administrators above it).
pub(super) async fn require_staff<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org: i64,
    what: &str,
) -> AppResult<()> {
    // An API client never reaches the register, whatever its scopes.
    if crate::clients::confined_to().is_some() || !authz::is_staff(db, viewer, org).await? {
        // A refused attempt is on record too (outside any transaction the caller opened).
        crate::privacy::audit(
            db,
            viewer.id,
            "care.refused",
            Some(org),
            None,
            format!("refused: {what}"),
        )
        .await?;
        return Err(AppError::Forbidden(msg!(
            "the register of people served is for the station's staff only",
            "服务对象档案仅限本站工作人员查看"
        )));
    }
    Ok(())
}

/// The record with key `id`, `NOT_FOUND` when there is none.
pub(super) async fn recipient_of<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<recipient::Model> {
    recipient::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))
}

/// Register a person (the staff of the station or room), with the consent that allows it.
pub async fn register(
    db: &DatabaseConnection,
    vault: &IdentityVault,
    viewer: &account::Model,
    n: NewRecipient,
) -> AppResult<recipient::Model> {
    let personal = check_personal(&n.personal)?;
    if n.categories.is_empty() {
        return Err(AppError::bad_input(
            "input.categories",
            msg!("name at least one category", "须注明至少一个服务对象类别"),
        ));
    }
    let today = crate::staffing::service::today();
    let consenter = check_consent(&n.consent, n.age_group, today, "input.consent")?;
    if !n.consent.purposes.contains(&ConsentPurpose::Register) {
        return Err(AppError::bad_input(
            "input.consent.purposes",
            msg!(
                "a record is kept only with consent to REGISTER",
                "须取得建档同意方可登记"
            ),
        ));
    }
    let org = crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    require_staff(db, viewer, org.id, "register a person").await?;
    if !matches!(org.kind, OrganizationKind::Station | OrganizationKind::Room) {
        return Err(AppError::bad_input(
            "input.organizationId",
            msg!(
                "a station or room keeps the register",
                "服务对象档案由社工站或社工室保管"
            ),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let row = recipient::ActiveModel {
        organization_id: Set(org.id),
        age_group: Set(n.age_group),
        categories: Set(CareCategory::list_to_db(&n.categories)),
        sealed: Set(None),
        status: Set(RecipientStatus::Active),
        erased_at: Set(None),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // Sealed under its own id, which the insert just gave it.
    let mut active: recipient::ActiveModel = row.into();
    active.sealed = Set(Some(seal(vault, *active.id.as_ref(), &personal)?));
    let row = active.update(&txn).await?;
    insert_consent(&txn, vault, viewer, row.id, &n.consent, &consenter).await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.register",
        Some(org.id),
        None,
        format!("care recipient {}", row.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn insert_consent<C: ConnectionTrait>(
    db: &C,
    vault: &IdentityVault,
    viewer: &account::Model,
    recipient_id: i64,
    c: &NewConsent,
    name: &str,
) -> AppResult<consent::Model> {
    let row = consent::ActiveModel {
        recipient_id: Set(recipient_id),
        given_by: Set(c.given_by),
        sealed_name: Set(None),
        purposes: Set(ConsentPurpose::list_to_db(&c.purposes)),
        means: Set(c.means),
        given_on: Set(c.given_on),
        recorded_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        withdrawn_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // Sealed under its own id, which the insert just gave it.
    let sealed = vault.seal_for(&aad("care_consent.sealed_name", row.id), name);
    let mut active: consent::ActiveModel = row.into();
    active.sealed_name = Set(Some(sealed));
    Ok(active.update(db).await?)
}

/// The records of an organization and those below it (its staff), oldest first, at most 500,
/// in one category or all. Each record listed is audited.
pub async fn list(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org: i64,
    category: Option<CareCategory>,
) -> AppResult<Vec<recipient::Model>> {
    crate::organizations::service::get(db, org)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    require_staff(db, viewer, org, "list the register").await?;
    let mut q = recipient::Entity::find()
        .filter(authz::in_subtree(recipient::Column::OrganizationId, org))
        .filter(recipient::Column::Status.eq(RecipientStatus::Active));
    if let Some(c) = category {
        q = q.filter(recipient::Column::Categories.like(format!("%{}%", c.as_str())));
    }
    let rows = q
        .order_by_asc(recipient::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?;
    // Only the records the caller could open one by one: a member of a district center (not
    // its administrator) is not staff of the stations below it.
    let orgs: Vec<i64> = rows.iter().map(|r| r.organization_id).collect();
    let staff_of = authz::staff_of_many(db, viewer, &orgs).await?;
    let rows: Vec<recipient::Model> = rows
        .into_iter()
        .filter(|r| staff_of.contains(&r.organization_id))
        .collect();
    if !rows.is_empty() {
        let now = Utc::now();
        entity::audit_log::Entity::insert_many(rows.iter().map(|r| {
            entity::audit_log::ActiveModel {
                actor_id: Set(viewer.id),
                action: Set("care.list".to_owned()),
                organization_id: Set(Some(r.organization_id)),
                subject_account_id: Set(None),
                detail: Set(format!("care recipient {} (masked)", r.id)),
                at: Set(now),
                ..Default::default()
            }
        }))
        .exec(db)
        .await?;
    }
    Ok(rows)
}

/// One record, whole (its organization's staff), audited. `NOT_FOUND` when there is none.
pub async fn read(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<(recipient::Model, Vec<consent::Model>)> {
    let r = recipient_of(db, id).await?;
    require_staff(
        db,
        viewer,
        r.organization_id,
        &format!("read care recipient {id}"),
    )
    .await?;
    crate::privacy::audit(
        db,
        viewer.id,
        "care.read",
        Some(r.organization_id),
        None,
        format!("care recipient {id}"),
    )
    .await?;
    let consents = consent::Entity::find()
        .filter(consent::Column::RecipientId.eq(id))
        .order_by_asc(consent::Column::Id)
        .all(db)
        .await?;
    Ok((r, consents))
}

/// Record another consent (its organization's staff).
pub async fn record_consent(
    db: &DatabaseConnection,
    vault: &IdentityVault,
    viewer: &account::Model,
    recipient_id: i64,
    c: NewConsent,
) -> AppResult<consent::Model> {
    let r = recipient_of(db, recipient_id).await?;
    require_staff(
        db,
        viewer,
        r.organization_id,
        &format!("record a consent for care recipient {recipient_id}"),
    )
    .await?;
    let name = check_consent(&c, r.age_group, crate::staffing::service::today(), "input")?;
    let txn = begin_write(db).await?;
    still_active(&txn, r.id).await?;
    let row = insert_consent(&txn, vault, viewer, r.id, &c, &name).await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.consent",
        Some(r.organization_id),
        None,
        format!("care recipient {recipient_id}: consent {}", row.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Within a write transaction: the record is still on the register (and, on PostgreSQL, stays
/// so until the transaction ends: the touch locks its row), else `CONFLICT`.
async fn still_active<C: ConnectionTrait>(txn: &C, id: i64) -> AppResult<()> {
    let touched = recipient::Entity::update_many()
        .col_expr(recipient::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(recipient::Column::Id.eq(id))
        .filter(recipient::Column::Status.eq(RecipientStatus::Active))
        .exec(txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(erased());
    }
    Ok(())
}

/// Withdraw a consent (its organization's staff), audited; a second withdrawal is `CONFLICT`.
/// The last consent to keep the record cannot be withdrawn here: the record is erased instead
/// (`eraseCareRecipient` with `CONSENT_WITHDRAWN`), so nothing stays on the register without
/// consent.
pub async fn withdraw_consent(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<consent::Model> {
    let c = consent::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))?;
    let r = recipient_of(db, c.recipient_id).await?;
    require_staff(
        db,
        viewer,
        r.organization_id,
        &format!("withdraw consent {id} of care recipient {}", r.id),
    )
    .await?;
    let txn = begin_write(db).await?;
    still_active(&txn, r.id).await?;
    let moved = consent::Entity::update_many()
        .col_expr(consent::Column::WithdrawnAt, Expr::value(Utc::now()))
        .filter(consent::Column::Id.eq(id))
        .filter(consent::Column::WithdrawnAt.is_null())
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "the consent is already withdrawn",
            "该同意已撤回"
        )));
    }
    let left: Vec<String> = consent::Entity::find()
        .select_only()
        .column(consent::Column::Purposes)
        .filter(consent::Column::RecipientId.eq(r.id))
        .filter(consent::Column::WithdrawnAt.is_null())
        .into_tuple()
        .all(&txn)
        .await?;
    if !left
        .iter()
        .any(|p| ConsentPurpose::list_from_db(p).contains(&ConsentPurpose::Register))
    {
        // Rolled back on drop.
        return Err(AppError::Conflict(msg!(
            "this is the last consent to keep the record: erase the record instead (CONSENT_WITHDRAWN)",
            "这是保留档案的最后一份同意：请改为删除档案（原因：撤回同意）"
        )));
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.consent.withdraw",
        Some(r.organization_id),
        None,
        format!("care recipient {}: consent {id}", r.id),
    )
    .await?;
    txn.commit().await?;
    consent::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))
}

pub(super) fn erased() -> AppError {
    AppError::Conflict(msg!("the record was erased", "该档案已删除"))
}

/// Why a record is erased: a code, never free text (which would name the person in the audit
/// log that outlives the record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum ErasureReason {
    /// The person asked (本人申请).
    PersonRequested,
    /// A guardian or agent asked (监护人或代理人申请).
    GuardianRequested,
    /// The consent to keep the record was withdrawn (撤回同意).
    ConsentWithdrawn,
    /// No longer served: moved away or died (不再服务).
    NoLongerServed,
}

/// Erase a record on request (an administrator of its organization, or above): the sealed
/// personal part, the consenters' names and the visit notes go; age group, categories and the
/// record's place in the counts stay. Audited (a refusal too); a second erasure is `CONFLICT`.
pub async fn erase(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: ErasureReason,
) -> AppResult<recipient::Model> {
    let r = recipient_of(db, id).await?;
    let what = format!("erase care recipient {id}");
    require_staff(db, viewer, r.organization_id, &what).await?;
    if !authz::administers(db, viewer, r.organization_id).await? {
        crate::privacy::audit(
            db,
            viewer.id,
            "care.refused",
            Some(r.organization_id),
            None,
            format!("refused: {what}"),
        )
        .await?;
        return Err(AppError::Forbidden(msg!(
            "only the station's administrators erase a record",
            "只有本站管理员可以删除服务对象档案"
        )));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let moved = recipient::Entity::update_many()
        .col_expr(
            recipient::Column::Sealed,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            recipient::Column::Status,
            Expr::value(RecipientStatus::Erased),
        )
        .col_expr(recipient::Column::ErasedAt, Expr::value(now))
        .col_expr(recipient::Column::UpdatedAt, Expr::value(now))
        .filter(recipient::Column::Id.eq(id))
        .filter(recipient::Column::Status.eq(RecipientStatus::Active))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(erased());
    }
    consent::Entity::update_many()
        .col_expr(
            consent::Column::SealedName,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(consent::Column::RecipientId.eq(id))
        .exec(&txn)
        .await?;
    // The care history stays as counts: visits keep their day and checklist, not their notes;
    // a running plan ends.
    entity::care_visit::Entity::update_many()
        .col_expr(
            entity::care_visit::Column::SealedNotes,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .filter(entity::care_visit::Column::RecipientId.eq(id))
        .exec(&txn)
        .await?;
    entity::care_plan::Entity::update_many()
        .col_expr(entity::care_plan::Column::EndedAt, Expr::value(now))
        .filter(entity::care_plan::Column::RecipientId.eq(id))
        .filter(entity::care_plan::Column::EndedAt.is_null())
        .exec(&txn)
        .await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.erase",
        Some(r.organization_id),
        None,
        format!("care recipient {id}: {reason:?}"),
    )
    .await?;
    txn.commit().await?;
    recipient::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))
}

/// How many people the subtree of `org` has on its registers (erased ones too: the counts stay),
/// and how many are active: for statistics, never names.
pub async fn counts<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<(i64, i64)> {
    let rows: Vec<(RecipientStatus, i64)> = recipient::Entity::find()
        .select_only()
        .column(recipient::Column::Status)
        .column_as(recipient::Column::Id.count(), "n")
        .filter(authz::in_subtree(recipient::Column::OrganizationId, org))
        .group_by(recipient::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let total = rows.iter().map(|(_, n)| n).sum();
    let active = rows
        .iter()
        .filter(|(s, _)| *s == RecipientStatus::Active)
        .map(|(_, n)| *n)
        .sum();
    Ok((total, active))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consent(by: ConsentGiver) -> NewConsent {
        NewConsent {
            given_by: by,
            name: "许伯".into(),
            purposes: vec![ConsentPurpose::Register],
            means: ConsentMeans::Written,
            given_on: "2026-12-01".parse().unwrap(),
        }
    }

    #[test]
    fn a_minor_needs_a_guardian_and_consent_is_dated_sensibly() {
        let today: NaiveDate = "2026-12-06".parse().unwrap();
        assert!(
            check_consent(&consent(ConsentGiver::Person), AgeGroup::Senior, today, "c").is_ok()
        );
        let e = check_consent(&consent(ConsentGiver::Person), AgeGroup::Minor, today, "c");
        assert!(matches!(e, Err(AppError::BadUserInput { field, .. }) if field == "c.givenBy"));
        assert!(
            check_consent(
                &consent(ConsentGiver::Guardian),
                AgeGroup::Minor,
                today,
                "c"
            )
            .is_ok()
        );
        let mut future = consent(ConsentGiver::Person);
        future.given_on = "2026-12-07".parse().unwrap();
        let e = check_consent(&future, AgeGroup::Adult, today, "c");
        assert!(matches!(e, Err(AppError::BadUserInput { field, .. }) if field == "c.givenOn"));
    }

    #[test]
    fn categories_and_purposes_round_trip() {
        let stored = CareCategory::list_to_db(&[
            CareCategory::Disability,
            CareCategory::LivingAlone,
            CareCategory::Disability,
        ]);
        assert_eq!(stored, "LIVING_ALONE,DISABILITY");
        assert_eq!(
            CareCategory::list_from_db(&stored),
            vec![CareCategory::LivingAlone, CareCategory::Disability]
        );
        let p = ConsentPurpose::list_to_db(&[ConsentPurpose::CareVisits, ConsentPurpose::Register]);
        assert_eq!(
            ConsentPurpose::list_from_db(&p),
            vec![ConsentPurpose::Register, ConsentPurpose::CareVisits]
        );
    }

    #[test]
    fn a_sealed_record_opens_only_as_itself() {
        let vault = IdentityVault::for_purpose(&[7u8; 32], "care").unwrap();
        let other = IdentityVault::for_purpose(&[7u8; 32], "identity").unwrap();
        let p = Personal {
            name: "戈老伯".into(),
            address: "城北社区3栋502".into(),
            latitude: None,
            longitude: None,
            needs: "助餐".into(),
            contacts: vec![],
        };
        let sealed = seal(&vault, 5, &p).unwrap();
        let row = |id: i64, sealed: Vec<u8>| recipient::Model {
            id,
            organization_id: 1,
            age_group: AgeGroup::Elderly80Plus,
            categories: String::new(),
            sealed: Some(sealed),
            status: RecipientStatus::Active,
            erased_at: None,
            created_by: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(open(&vault, &row(5, sealed.clone())), Some(p));
        assert_eq!(
            open(&vault, &row(6, sealed.clone())),
            None,
            "another record's row"
        );
        assert_eq!(
            open(&other, &row(5, sealed.clone())),
            None,
            "another purpose's key"
        );
        assert!(!String::from_utf8_lossy(&sealed).contains("城北"));
        // Copied into a consent's name column, it does not open as a name.
        let c = consent::Model {
            id: 5,
            recipient_id: 5,
            given_by: ConsentGiver::Person,
            sealed_name: Some(sealed),
            purposes: String::new(),
            means: ConsentMeans::Written,
            given_on: "2026-12-01".parse().unwrap(),
            recorded_by: 1,
            created_at: Utc::now(),
            withdrawn_at: None,
        };
        assert_eq!(consent_name(&vault, &c), None);
    }
}
