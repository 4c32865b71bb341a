//! A small demo city for trying the API right away (`tongxing seed-demo`): the Suzhou
//! hierarchy down to two social-work rooms, a published campaign, a dozen published events with
//! shifts (one of them a weekly series), organizers and volunteers with a few sign-ups.
//!
//! Everything goes through the service functions, as the API would do it, so every rule
//! (hierarchy, authority, windows, skills, capacity, waitlist) applies to the demo data too.
//! It only fills an empty database: with any organization present it refuses, so demo data is
//! never mixed into real data.
//!
//! Every demo account's password is [`DEMO_PASSWORD`]: the system administrator is 13900000000,
//! the organizers 13900000001 (the Kunshan stations) and 13900000002 (the Wujiang stations),
//! and the volunteers 13800000001 to 13800000005.

mod care;
mod charity;
mod city;
mod data;
mod projects;
mod staffing;
mod topics;

use std::fmt;

use anyhow::{Context, bail};
use chrono::Utc;
use entity::{account, organization};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{
    AppState,
    accounts::service::{self as accounts, CreateAdminOutcome},
    clock::city_offset,
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "tongxing-demo";

/// What [`seed_demo`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    /// Organizations (city center, district centers, stations, rooms, charity).
    pub organizations: usize,
    /// Accounts (administrator, organizers, volunteers).
    pub accounts: usize,
    /// Campaigns.
    pub campaigns: usize,
    /// Published events.
    pub events: usize,
    /// Shifts, including those of the recurring series.
    pub shifts: usize,
    /// Sign-ups that hold a place.
    pub signups_confirmed: usize,
    /// Sign-ups on a waitlist.
    pub signups_waitlisted: usize,
    /// Community charity funds.
    pub funds: usize,
    /// Donations (to funds and the campaign).
    pub donations: usize,
    /// Micro-wishes.
    pub wishes: usize,
    /// Help requests.
    pub help_requests: usize,
    /// Social workers assigned to stations (resident and dispatched).
    pub staff_assignments: usize,
    /// Volunteer squads.
    pub squads: usize,
    /// Service projects.
    pub service_projects: usize,
    /// Needs on the communities' lists.
    pub community_needs: usize,
    /// Resources on the communities' lists.
    pub community_resources: usize,
    /// People served on the registers.
    pub people_registered: usize,
    /// Care plans running.
    pub care_plans: usize,
    /// Care visits logged.
    pub care_visits: usize,
    /// Topics residents deliberate.
    pub topics: usize,
}

impl fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} organizations, {} accounts, {} campaign(s), {} events, {} shifts, \
             {} confirmed and {} waitlisted sign-ups, {} fund(s) with {} donations, \
             {} micro-wishes, {} help requests, {} social workers assigned, {} squad(s), \
             {} service projects, {} community needs, {} community resources, \
             {} people served registered with {} care plans and {} visits, {} topics",
            self.organizations,
            self.accounts,
            self.campaigns,
            self.events,
            self.shifts,
            self.signups_confirmed,
            self.signups_waitlisted,
            self.funds,
            self.donations,
            self.wishes,
            self.help_requests,
            self.staff_assignments,
            self.squads,
            self.service_projects,
            self.community_needs,
            self.community_resources,
            self.people_registered,
            self.care_plans,
            self.care_visits,
            self.topics
        )
    }
}

/// Fill an empty database with a small demo city. Refuses when any organization exists (or any
/// demo phone number is already registered), so demo data never mixes with real data.
///
/// The steps are separate service calls, not one transaction: if one fails half-way, the
/// database holds part of the city and a second run refuses; start again from an empty
/// database.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<SeedSummary> {
    let db = &state.db;
    if organization::Entity::find().one(db).await?.is_some() {
        bail!(
            "the database already has organizations; seed-demo only fills an empty database, \
             so demo data never mixes with real data"
        );
    }
    let taken = account::Entity::find()
        .filter(account::Column::Phone.is_in(city::demo_phones()))
        .count(db)
        .await?;
    if taken > 0 {
        bail!(
            "{taken} of the demo accounts' phone numbers are already registered; seed-demo only \
             fills an empty database"
        );
    }
    let mut summary = SeedSummary::default();

    // The system administrator builds the hierarchy.
    let admin_id = match accounts::create_admin(
        state,
        city::phone(data::ADMIN_PHONE)?,
        city::password()?,
        city::display_name(data::ADMIN_NAME)?,
    )
    .await
    .context("creating the demo administrator")?
    {
        CreateAdminOutcome::Created(id) | CreateAdminOutcome::AlreadyExisted(id) => id,
    };
    let admin = accounts::get(db, admin_id)
        .await?
        .context("the demo administrator vanished")?;
    summary.accounts += 1;

    let (city, stations) = city::hierarchy(state, &admin, &mut summary).await?;
    let organizer_of = city::organizers(state, &admin, &stations, &mut summary).await?;
    let now = Utc::now();
    let campaign = city::campaign(state, &admin, city, now, &mut summary).await?;
    let today = now.with_timezone(&city_offset()).date_naive();
    let event_shifts = city::events(
        state,
        &organizer_of,
        &stations,
        campaign,
        today,
        &mut summary,
    )
    .await?;
    let series_shifts = city::weekly_series(
        state,
        &organizer_of[0],
        stations[0],
        campaign,
        today,
        &mut summary,
    )
    .await?;
    let operator = staffing::seed(state, &admin, city, &stations, today, &mut summary).await?;
    let volunteers = city::volunteers(state, &mut summary).await?;
    staffing::squad(state, &admin, stations[0], &volunteers, today, &mut summary).await?;
    city::sign_ups(
        state,
        &volunteers,
        &event_shifts,
        &series_shifts,
        &mut summary,
    )
    .await?;
    charity::seed(
        state,
        &admin,
        &organizer_of[0],
        stations[0],
        campaign,
        &volunteers,
        &mut summary,
    )
    .await?;
    projects::seed(
        state,
        &admin,
        city,
        operator,
        &stations,
        today,
        &mut summary,
    )
    .await?;
    care::seed(
        state,
        &admin,
        &organizer_of[0],
        &volunteers[0],
        stations[0],
        today,
        &mut summary,
    )
    .await?;
    topics::seed(
        state,
        &organizer_of[0],
        &volunteers,
        stations[0],
        &mut summary,
    )
    .await?;

    tracing::info!(
        organizations = summary.organizations,
        accounts = summary.accounts,
        campaigns = summary.campaigns,
        events = summary.events,
        shifts = summary.shifts,
        signups_confirmed = summary.signups_confirmed,
        signups_waitlisted = summary.signups_waitlisted,
        funds = summary.funds,
        donations = summary.donations,
        wishes = summary.wishes,
        help_requests = summary.help_requests,
        staff_assignments = summary.staff_assignments,
        squads = summary.squads,
        service_projects = summary.service_projects,
        community_needs = summary.community_needs,
        community_resources = summary.community_resources,
        people_registered = summary.people_registered,
        care_plans = summary.care_plans,
        care_visits = summary.care_visits,
        topics = summary.topics,
        "demo city seeded"
    );
    Ok(summary)
}
