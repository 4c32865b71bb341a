//! Rules of the organization hierarchy.

pub use entity::{membership::MemberRole, organization::OrganizationKind};

use crate::error::AppError;

/// Whether `kind` is one of the four levels of the administrative hierarchy.
pub fn is_hierarchy_node(kind: OrganizationKind) -> bool {
    !matches!(
        kind,
        OrganizationKind::SocialOrg | OrganizationKind::Charity
    )
}

/// Whether an organization of `kind` may sit under `parent` (`None`: at the top).
pub fn may_have_parent(kind: OrganizationKind, parent: Option<OrganizationKind>) -> bool {
    use OrganizationKind::*;
    match (kind, parent) {
        (CityCenter, None) => true,
        (DistrictCenter, Some(CityCenter)) => true,
        (Station, Some(DistrictCenter)) => true,
        (Room, Some(Station)) => true,
        (SocialOrg | Charity, Some(p)) => is_hierarchy_node(p),
        _ => false,
    }
}

/// Check the parent rule, as a client-facing error on `field`.
pub fn check_parent(
    kind: OrganizationKind,
    parent: Option<OrganizationKind>,
    field: &str,
) -> Result<(), AppError> {
    use OrganizationKind::*;
    if may_have_parent(kind, parent) {
        return Ok(());
    }
    let expected = match kind {
        CityCenter => msg!("a city center has no parent", "市级中心不能有上级组织"),
        DistrictCenter => msg!(
            "a district center must be under a city center",
            "区级中心的上级须为市级中心"
        ),
        Station => msg!(
            "a station must be under a district center",
            "社工站的上级须为区级中心"
        ),
        Room => msg!("a room must be under a station", "社工室的上级须为社工站"),
        SocialOrg | Charity => msg!(
            "a social organization or charity must be under a city center, district center, station or room",
            "社会组织或慈善组织的上级须为市级中心、区级中心、社工站或社工室"
        ),
    };
    Err(AppError::bad_input(field, expected))
}

/// Check a coordinate pair: both or neither, each in range.
pub fn check_location(latitude: Option<f64>, longitude: Option<f64>) -> Result<(), AppError> {
    match (latitude, longitude) {
        (None, None) => Ok(()),
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(AppError::bad_input(
                    "input.latitude",
                    msg!("must be between -90 and 90", "纬度须在 -90 至 90 之间"),
                ));
            }
            if !(-180.0..=180.0).contains(&lng) {
                return Err(AppError::bad_input(
                    "input.longitude",
                    msg!("must be between -180 and 180", "经度须在 -180 至 180 之间"),
                ));
            }
            Ok(())
        }
        (None, Some(_)) => Err(AppError::bad_input(
            "input.latitude",
            msg!("latitude and longitude go together", "纬度和经度须同时填写"),
        )),
        (Some(_), None) => Err(AppError::bad_input(
            "input.longitude",
            msg!("latitude and longitude go together", "纬度和经度须同时填写"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::OrganizationKind::*;
    use super::*;

    #[test]
    fn hierarchy_levels_nest_in_order() {
        assert!(may_have_parent(CityCenter, None));
        assert!(may_have_parent(DistrictCenter, Some(CityCenter)));
        assert!(may_have_parent(Station, Some(DistrictCenter)));
        assert!(may_have_parent(Room, Some(Station)));
    }

    #[test]
    fn levels_cannot_be_skipped_or_inverted() {
        assert!(!may_have_parent(CityCenter, Some(CityCenter)));
        assert!(!may_have_parent(DistrictCenter, None));
        assert!(!may_have_parent(Station, Some(CityCenter)));
        assert!(!may_have_parent(Room, Some(DistrictCenter)));
        assert!(!may_have_parent(Room, Some(Room)));
        assert!(!may_have_parent(DistrictCenter, Some(Station)));
        assert!(!may_have_parent(Station, Some(SocialOrg)));
    }

    #[test]
    fn social_orgs_and_charities_attach_to_any_node() {
        for kind in [SocialOrg, Charity] {
            for parent in [CityCenter, DistrictCenter, Station, Room] {
                assert!(
                    may_have_parent(kind, Some(parent)),
                    "{kind:?} under {parent:?}"
                );
            }
            assert!(!may_have_parent(kind, None));
            assert!(!may_have_parent(kind, Some(SocialOrg)));
            assert!(!may_have_parent(kind, Some(Charity)));
        }
    }

    #[test]
    fn location_must_be_complete_and_in_range() {
        assert!(check_location(Some(31.3), Some(120.6)).is_ok());
        assert!(check_location(None, None).is_ok());
        assert!(check_location(Some(91.0), Some(120.0)).is_err());
        assert!(check_location(Some(31.0), None).is_err());
    }
}
