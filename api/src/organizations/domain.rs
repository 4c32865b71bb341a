//! Rules of the organization hierarchy.

use async_graphql::Enum;

use crate::error::AppError;

/// Kind of an organization in the five-society hierarchy.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationKind {
    /// The city's social-work guidance center: the root of the hierarchy.
    CityCenter,
    /// A district (county/city-level) center under the city center.
    DistrictCenter,
    /// A town or street social-work station (社工站) under a district center.
    Station,
    /// A village or community social-work room (社工室) under a station.
    Room,
    /// A social organization attached to any node of the hierarchy.
    SocialOrg,
    /// A charity attached to any node of the hierarchy.
    Charity,
}

impl OrganizationKind {
    const ALL: [Self; 6] = [
        Self::CityCenter,
        Self::DistrictCenter,
        Self::Station,
        Self::Room,
        Self::SocialOrg,
        Self::Charity,
    ];

    /// The value stored in the database.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::CityCenter => "CITY_CENTER",
            Self::DistrictCenter => "DISTRICT_CENTER",
            Self::Station => "STATION",
            Self::Room => "ROOM",
            Self::SocialOrg => "SOCIAL_ORG",
            Self::Charity => "CHARITY",
        }
    }

    /// Read a stored value.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_db() == value)
    }

    /// Whether this is one of the four levels of the administrative hierarchy.
    pub fn is_hierarchy_node(self) -> bool {
        !matches!(self, Self::SocialOrg | Self::Charity)
    }

    /// Whether an organization of this kind may sit under `parent` (`None`: at the top).
    pub fn may_have_parent(self, parent: Option<Self>) -> bool {
        match (self, parent) {
            (Self::CityCenter, None) => true,
            (Self::DistrictCenter, Some(Self::CityCenter)) => true,
            (Self::Station, Some(Self::DistrictCenter)) => true,
            (Self::Room, Some(Self::Station)) => true,
            (Self::SocialOrg | Self::Charity, Some(p)) => p.is_hierarchy_node(),
            _ => false,
        }
    }

    /// Check the parent rule, as a client-facing error on `field`.
    pub fn check_parent(self, parent: Option<Self>, field: &str) -> Result<(), AppError> {
        if self.may_have_parent(parent) {
            return Ok(());
        }
        let expected = match self {
            Self::CityCenter => "a city center has no parent",
            Self::DistrictCenter => "a district center must be under a city center",
            Self::Station => "a station must be under a district center",
            Self::Room => "a room must be under a station",
            Self::SocialOrg | Self::Charity => {
                "a social organization or charity must be under a city center, district center, station or room"
            }
        };
        Err(AppError::bad_input(field, expected))
    }
}

/// Role of an account in an organization.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberRole {
    /// Administers the organization and everything under it.
    Admin,
    /// Creates and runs campaigns, events and shifts.
    Organizer,
    /// A social worker of the organization.
    SocialWorker,
}

impl MemberRole {
    /// The value stored in the database.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Organizer => "ORGANIZER",
            Self::SocialWorker => "SOCIAL_WORKER",
        }
    }

    /// Read a stored value.
    pub fn from_db(value: &str) -> Option<Self> {
        [Self::Admin, Self::Organizer, Self::SocialWorker]
            .into_iter()
            .find(|r| r.as_db() == value)
    }
}

/// Check a coordinate pair: both or neither, each in range.
pub fn check_location(latitude: Option<f64>, longitude: Option<f64>) -> Result<(), AppError> {
    match (latitude, longitude) {
        (None, None) => Ok(()),
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(AppError::bad_input(
                    "input.latitude",
                    "must be between -90 and 90",
                ));
            }
            if !(-180.0..=180.0).contains(&lng) {
                return Err(AppError::bad_input(
                    "input.longitude",
                    "must be between -180 and 180",
                ));
            }
            Ok(())
        }
        (None, Some(_)) => Err(AppError::bad_input(
            "input.latitude",
            "latitude and longitude go together",
        )),
        (Some(_), None) => Err(AppError::bad_input(
            "input.longitude",
            "latitude and longitude go together",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::OrganizationKind::*;
    use super::*;

    #[test]
    fn hierarchy_levels_nest_in_order() {
        assert!(CityCenter.may_have_parent(None));
        assert!(DistrictCenter.may_have_parent(Some(CityCenter)));
        assert!(Station.may_have_parent(Some(DistrictCenter)));
        assert!(Room.may_have_parent(Some(Station)));
    }

    #[test]
    fn levels_cannot_be_skipped_or_inverted() {
        assert!(!CityCenter.may_have_parent(Some(CityCenter)));
        assert!(!DistrictCenter.may_have_parent(None));
        assert!(!Station.may_have_parent(Some(CityCenter)));
        assert!(!Room.may_have_parent(Some(DistrictCenter)));
        assert!(!Room.may_have_parent(Some(Room)));
        assert!(!DistrictCenter.may_have_parent(Some(Station)));
        assert!(!Station.may_have_parent(Some(SocialOrg)));
    }

    #[test]
    fn social_orgs_and_charities_attach_to_any_node() {
        for kind in [SocialOrg, Charity] {
            for parent in [CityCenter, DistrictCenter, Station, Room] {
                assert!(
                    kind.may_have_parent(Some(parent)),
                    "{kind:?} under {parent:?}"
                );
            }
            assert!(!kind.may_have_parent(None));
            assert!(!kind.may_have_parent(Some(SocialOrg)));
            assert!(!kind.may_have_parent(Some(Charity)));
        }
    }

    #[test]
    fn kinds_round_trip_through_the_database_value() {
        for kind in OrganizationKind::ALL {
            assert_eq!(OrganizationKind::from_db(kind.as_db()), Some(kind));
        }
        assert_eq!(OrganizationKind::from_db("VILLAGE"), None);
    }

    #[test]
    fn location_must_be_complete_and_in_range() {
        assert!(check_location(Some(31.3), Some(120.6)).is_ok());
        assert!(check_location(None, None).is_ok());
        assert!(check_location(Some(91.0), Some(120.0)).is_err());
        assert!(check_location(Some(31.0), None).is_err());
    }
}
