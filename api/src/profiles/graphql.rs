//! GraphQL surface of volunteer profiles.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use entity::volunteer_profile as profile;

use super::service::{self, ProfileChanges};
use crate::{
    context::ContextExt,
    geo::{GeoPoint, LocationInput},
    validate,
};

/// A point on the map.
#[derive(SimpleObject)]
pub struct Location {
    /// Latitude (WGS-84).
    latitude: f64,
    /// Longitude (WGS-84).
    longitude: f64,
}

impl Location {
    /// A point.
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Self {
            latitude,
            longitude,
        }
    }
}

/// The volunteer side of an account (志愿者). Visible to the account itself.
pub struct VolunteerProfile(pub profile::Model);

/// The volunteer side of an account (志愿者). Visible to the account itself.
#[Object]
impl VolunteerProfile {
    /// Volunteer number, for certificates.
    async fn volunteer_number(&self) -> &str {
        &self.0.volunteer_number
    }

    /// Skills, normalized to lower case.
    async fn skills(&self) -> Vec<String> {
        validate::skills_from_db(&self.0.skills)
    }

    /// A few words about the volunteer.
    async fn bio(&self) -> &str {
        &self.0.bio
    }

    /// Whether staff may propose the volunteer for help requests near home.
    async fn available_for_dispatch(&self) -> bool {
        self.0.available_for_dispatch
    }

    /// Home location (personal data: only the volunteer sees it).
    async fn home_location(&self) -> Option<Location> {
        match (self.0.home_latitude, self.0.home_longitude) {
            (Some(latitude), Some(longitude)) => Some(Location {
                latitude,
                longitude,
            }),
            _ => None,
        }
    }
}

/// Input of `updateMyProfile`: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateMyProfileInput {
    /// Skills (at most 20, each 1–32 characters); replaces the list.
    skills: Option<Vec<String>>,
    /// A few words, at most 1,000 characters.
    bio: Option<String>,
    /// Home location, used to find shifts and requests nearby.
    home_location: Option<LocationInput>,
    /// Whether the organizations' staff may propose you for help requests near your home
    /// (`nearbyVolunteers`); off until you turn it on.
    available_for_dispatch: Option<bool>,
}

/// Profile mutations.
#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Update the caller's volunteer profile.
    async fn update_my_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyProfileInput,
    ) -> Result<VolunteerProfile> {
        let viewer = ctx.require_account().await?;
        let changes = ProfileChanges {
            skills: input
                .skills
                .map(|s| validate::skills(&s, "input.skills"))
                .transpose()?,
            bio: input
                .bio
                .map(|b| validate::text(&b, "input.bio", 1_000))
                .transpose()?,
            home: input
                .home_location
                .map(|l| GeoPoint::new(l.latitude, l.longitude, "input.homeLocation"))
                .transpose()?,
            available_for_dispatch: input.available_for_dispatch,
        };
        Ok(VolunteerProfile(
            service::update(&ctx.state().db, viewer.id, changes).await?,
        ))
    }
}
