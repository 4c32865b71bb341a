//! Organization hierarchy and membership services on a fresh migrated database.

use api::{
    AppState,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service as accounts,
    },
    authz,
    organizations::{
        domain::{MemberRole, OrganizationKind},
        service::{self, NewOrganization, OrganizationChanges, OrganizationFilter},
    },
    pagination::PageArgs,
};
use entity::{account, organization};

use crate::harness::test_state;

async fn account(state: &AppState, phone: &str, admin: bool) -> account::Model {
    let p = Phone::parse(phone, "phone").unwrap();
    let pw = Password::parse("password-1", "password").unwrap();
    let n = DisplayName::parse("用户", "name").unwrap();
    if admin {
        accounts::create_admin(state, p, pw, n).await.unwrap();
    } else {
        accounts::register_proven(state, p, pw, n).await.unwrap();
    }
    let key = Phone::parse(phone, "phone").unwrap();
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    account::Entity::find()
        .filter(account::Column::Phone.eq(key.as_str()))
        .one(&state.db)
        .await
        .unwrap()
        .unwrap()
}

fn new_org(name: &str, kind: OrganizationKind, parent: Option<i64>) -> NewOrganization {
    NewOrganization {
        name: name.into(),
        kind,
        parent_id: parent,
        region_code: None,
        address: None,
        latitude: None,
        longitude: None,
    }
}

/// City → two districts → a station in each → a room under the first station.
struct Tree {
    city: organization::Model,
    district_a: organization::Model,
    district_b: organization::Model,
    station_a: organization::Model,
    station_b: organization::Model,
    room_a: organization::Model,
}

async fn tree(state: &AppState, admin: &account::Model) -> Tree {
    use OrganizationKind::*;
    let db = &state.db;
    let city = service::create(db, admin, new_org("苏州市社工指导中心", CityCenter, None))
        .await
        .unwrap();
    let district_a = service::create(db, admin, new_org("昆山市", DistrictCenter, Some(city.id)))
        .await
        .unwrap();
    let district_b = service::create(db, admin, new_org("吴江区", DistrictCenter, Some(city.id)))
        .await
        .unwrap();
    let station_a = service::create(
        db,
        admin,
        new_org("亭林社工站", Station, Some(district_a.id)),
    )
    .await
    .unwrap();
    let station_b = service::create(
        db,
        admin,
        new_org("松陵社工站", Station, Some(district_b.id)),
    )
    .await
    .unwrap();
    let room_a = service::create(
        db,
        admin,
        new_org("采莲社区社工室", Room, Some(station_a.id)),
    )
    .await
    .unwrap();
    Tree {
        city,
        district_a,
        district_b,
        station_a,
        station_b,
        room_a,
    }
}

fn all() -> PageArgs {
    PageArgs {
        first: 100,
        after: None,
    }
}

#[tokio::test]
async fn ancestors_run_from_the_top_down() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let names: Vec<_> = service::ancestors(&state.db, t.room_a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(names, vec![t.city.id, t.district_a.id, t.station_a.id]);
    assert!(
        service::ancestors(&state.db, t.city.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn ancestor_filter_returns_the_whole_subtree_only() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let filter = OrganizationFilter {
        ancestor_id: Some(t.district_a.id),
        ..Default::default()
    };
    let ids: Vec<_> = service::list(&state.db, &filter, all())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, vec![t.station_a.id, t.room_a.id]);
    let everything = OrganizationFilter {
        ancestor_id: Some(t.city.id),
        ..Default::default()
    };
    assert_eq!(
        service::list(&state.db, &everything, all())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}

#[tokio::test]
async fn kind_rules_are_enforced_on_create() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let err = service::create(
        &state.db,
        &admin,
        new_org("跳级社工室", OrganizationKind::Room, Some(t.district_a.id)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
    let charity = service::create(
        &state.db,
        &admin,
        new_org(
            "社区慈善基金会",
            OrganizationKind::Charity,
            Some(t.room_a.id),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        charity.kind,
        entity::organization::OrganizationKind::Charity
    );
    let err = service::create(
        &state.db,
        &admin,
        new_org("挂在慈善下", OrganizationKind::SocialOrg, Some(charity.id)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn authority_flows_down_but_not_sideways_or_up() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let district_admin = account(&state, "13800000002", false).await;
    service::grant_membership(
        &state.db,
        &admin,
        t.district_a.id,
        "13800000002",
        MemberRole::Admin,
    )
    .await
    .unwrap();

    // Down: a station and a room below the district.
    for org in [t.district_a.id, t.station_a.id, t.room_a.id] {
        assert!(
            authz::administers(&state.db, &district_admin, org)
                .await
                .unwrap()
        );
    }
    // Sideways and up: no.
    for org in [t.district_b.id, t.station_b.id, t.city.id] {
        assert!(
            !authz::administers(&state.db, &district_admin, org)
                .await
                .unwrap()
        );
    }
    let created = service::create(
        &state.db,
        &district_admin,
        new_org("新社工室", OrganizationKind::Room, Some(t.station_a.id)),
    )
    .await
    .unwrap();
    assert_eq!(created.parent_id, Some(t.station_a.id));
    let err = service::create(
        &state.db,
        &district_admin,
        new_org("别区社工室", OrganizationKind::Room, Some(t.station_b.id)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    let err = service::update(
        &state.db,
        &district_admin,
        t.station_b.id,
        OrganizationChanges {
            name: Some("改名".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
}

#[tokio::test]
async fn only_system_admins_create_city_centers() {
    let (state, _db) = test_state().await;
    let someone = account(&state, "13800000003", false).await;
    let err = service::create(
        &state.db,
        &someone,
        new_org("另一个市", OrganizationKind::CityCenter, None),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
}

#[tokio::test]
async fn organizers_do_not_administer() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let organizer = account(&state, "13800000004", false).await;
    service::grant_membership(
        &state.db,
        &admin,
        t.station_a.id,
        "13800000004",
        MemberRole::Organizer,
    )
    .await
    .unwrap();
    assert!(
        !authz::administers(&state.db, &organizer, t.station_a.id)
            .await
            .unwrap()
    );
    assert!(
        authz::is_staff(&state.db, &organizer, t.station_a.id)
            .await
            .unwrap()
    );
    let err = service::grant_membership(
        &state.db,
        &organizer,
        t.station_a.id,
        "13900000001",
        MemberRole::Admin,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
}

#[tokio::test]
async fn adding_a_member_again_changes_the_role() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    account(&state, "13800000005", false).await;
    let first = service::grant_membership(
        &state.db,
        &admin,
        t.room_a.id,
        "13800000005",
        MemberRole::SocialWorker,
    )
    .await
    .unwrap();
    let second = service::grant_membership(
        &state.db,
        &admin,
        t.room_a.id,
        "13800000005",
        MemberRole::Organizer,
    )
    .await
    .unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(second.role, entity::membership::MemberRole::Organizer);
    let members = service::members(&state.db, &admin, t.room_a.id, all())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    assert!(
        service::remove_member(&state.db, &admin, t.room_a.id, first.account_id)
            .await
            .unwrap()
    );
    assert!(
        !service::remove_member(&state.db, &admin, t.room_a.id, first.account_id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn adding_an_unregistered_phone_is_not_found() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let err = service::grant_membership(
        &state.db,
        &admin,
        t.room_a.id,
        "13700000000",
        MemberRole::Admin,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
}

#[tokio::test]
async fn phones_are_visible_to_admins_of_the_persons_organizations() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    let district_admin = account(&state, "13800000006", false).await;
    let worker = account(&state, "13800000007", false).await;
    let stranger = account(&state, "13800000008", false).await;
    service::grant_membership(
        &state.db,
        &admin,
        t.district_a.id,
        "13800000006",
        MemberRole::Admin,
    )
    .await
    .unwrap();
    service::grant_membership(
        &state.db,
        &admin,
        t.room_a.id,
        "13800000007",
        MemberRole::SocialWorker,
    )
    .await
    .unwrap();
    let db = &state.db;
    assert!(
        authz::may_see_phone(db, &district_admin, worker.id)
            .await
            .unwrap()
    );
    assert!(authz::may_see_phone(db, &worker, worker.id).await.unwrap());
    assert!(authz::may_see_phone(db, &admin, worker.id).await.unwrap());
    assert!(
        !authz::may_see_phone(db, &stranger, worker.id)
            .await
            .unwrap()
    );
    // A social worker does not see their administrator's phone by being in the same tree.
    assert!(
        !authz::may_see_phone(db, &worker, district_admin.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn search_is_case_insensitive_and_escapes_wildcards() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    service::create(
        &state.db,
        &admin,
        new_org(
            "Sunshine 100% Volunteers",
            OrganizationKind::SocialOrg,
            Some(t.city.id),
        ),
    )
    .await
    .unwrap();
    let find = |s: &str| OrganizationFilter {
        search: Some(s.into()),
        ..Default::default()
    };
    let hits = |f: OrganizationFilter| {
        let db = state.db.clone();
        async move { service::list(&db, &f, all()).await.unwrap().items.len() }
    };
    assert_eq!(hits(find("sunshine")).await, 1);
    assert_eq!(hits(find("100%")).await, 1);
    assert_eq!(hits(find("%")).await, 1);
    assert_eq!(hits(find("社工站")).await, 2);
    assert_eq!(hits(find("_")).await, 0);
}

#[tokio::test]
async fn pages_follow_each_other_without_gaps_or_repeats() {
    let (state, _db) = test_state().await;
    let admin = account(&state, "13900000001", true).await;
    let t = tree(&state, &admin).await;
    for i in 0..7 {
        service::create(
            &state.db,
            &admin,
            new_org(
                &format!("社会组织{i}"),
                OrganizationKind::SocialOrg,
                Some(t.station_a.id),
            ),
        )
        .await
        .unwrap();
    }
    let filter = OrganizationFilter {
        parent_id: Some(t.station_a.id),
        kind: Some(OrganizationKind::SocialOrg),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = service::list(&state.db, &filter, PageArgs { first: 3, after })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|o| o.id));
        if !page.has_next {
            break;
        }
        after = page.items.last().map(|o| o.id);
    }
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
}
