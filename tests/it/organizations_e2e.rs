//! The organization hierarchy over HTTP.

use serde_json::json;

use crate::harness::{TestApp, first_code};

#[tokio::test]
async fn a_district_member_cannot_touch_another_district() {
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    let kunshan = app
        .create_org(&root.access, "昆山市", "DISTRICT_CENTER", Some(&city))
        .await;
    let wujiang = app
        .create_org(&root.access, "吴江区", "DISTRICT_CENTER", Some(&city))
        .await;
    let songling = app
        .create_org(&root.access, "松陵社工站", "STATION", Some(&wujiang))
        .await;

    let ks_admin = app.register("13800000001", "昆山管理员").await;
    app.add_member(&root.access, &kunshan, "13800000001", "ADMIN")
        .await;

    // Own district: allowed, two levels down.
    let tinglin = app
        .create_org(&ks_admin.access, "亭林社工站", "STATION", Some(&kunshan))
        .await;
    app.create_org(&ks_admin.access, "采莲社区", "ROOM", Some(&tinglin))
        .await;

    // Another district: create, update and add members are all FORBIDDEN.
    let create = app
        .err_code(
            Some(&ks_admin.access),
            "mutation($p: ID!) { createOrganization(input: {name: \"越界\", kind: ROOM, parentId: $p}) { id } }",
            json!({ "p": songling }),
        )
        .await;
    assert_eq!(create, "FORBIDDEN");
    let update = app
        .err_code(
            Some(&ks_admin.access),
            "mutation($id: ID!) { updateOrganization(id: $id, input: {name: \"改名\"}) { id } }",
            json!({ "id": wujiang }),
        )
        .await;
    assert_eq!(update, "FORBIDDEN");
    let add = app
        .err_code(
            Some(&ks_admin.access),
            "mutation($o: ID!) { addMember(organizationId: $o, phone: \"13800000001\", role: ADMIN) { id } }",
            json!({ "o": wujiang }),
        )
        .await;
    assert_eq!(add, "FORBIDDEN");
    // Nor the city above.
    let up = app
        .err_code(
            Some(&ks_admin.access),
            "mutation($id: ID!) { updateOrganization(id: $id, input: {name: \"改名\"}) { id } }",
            json!({ "id": city }),
        )
        .await;
    assert_eq!(up, "FORBIDDEN");
}

#[tokio::test]
async fn creating_needs_a_login() {
    let app = TestApp::spawn().await;
    let code = app
        .err_code(
            None,
            "mutation { createOrganization(input: {name: \"x\", kind: CITY_CENTER}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn hierarchy_is_readable_through_parent_children_and_ancestors() {
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    let district = app
        .create_org(&root.access, "昆山市", "DISTRICT_CENTER", Some(&city))
        .await;
    let station = app
        .create_org(&root.access, "亭林社工站", "STATION", Some(&district))
        .await;
    let room = app
        .create_org(&root.access, "采莲社区", "ROOM", Some(&station))
        .await;

    let data = app
        .ok(
            None,
            "query($id: ID!) { organization(id: $id) { name kind parent { id } ancestors { name } } }",
            json!({ "id": room }),
        )
        .await;
    let org = &data["organization"];
    assert_eq!(org["kind"], "ROOM");
    assert_eq!(org["parent"]["id"], station.as_str());
    let names: Vec<_> = org["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["苏州市", "昆山市", "亭林社工站"]);

    let data = app
        .ok(
            None,
            "query($id: ID!) { organizations(filter: {ancestorId: $id}) { edges { node { name } } } organization(id: $id) { children { edges { node { id } } } } }",
            json!({ "id": city }),
        )
        .await;
    assert_eq!(data["organizations"]["edges"].as_array().unwrap().len(), 3);
    assert_eq!(
        data["organization"]["children"]["edges"][0]["node"]["id"],
        district.as_str()
    );
}

#[tokio::test]
async fn wrong_parent_kind_is_bad_input_naming_the_field() {
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    let (_, body) = app
        .post(
            Some(&root.access),
            "mutation($p: ID!) { createOrganization(input: {name: \"跳级\", kind: STATION, parentId: $p}) { id } }",
            json!({ "p": city }),
        )
        .await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.kind");
}

#[tokio::test]
async fn an_id_of_another_type_is_rejected() {
    let app = TestApp::spawn().await;
    let s = app.register("13800000001", "甲").await;
    // An account ID where an organization ID is expected.
    let (_, body) = app
        .post(
            None,
            "query($id: ID!) { organization(id: $id) { id } }",
            json!({ "id": s.account_id }),
        )
        .await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    let code = app
        .err_code(
            Some(&s.access),
            "mutation($p: ID!) { createOrganization(input: {name: \"x\", kind: ROOM, parentId: $p}) { id } }",
            json!({ "p": s.account_id }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn phones_are_masked_for_strangers_and_whole_for_owner_and_admins() {
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    let district = app
        .create_org(&root.access, "昆山市", "DISTRICT_CENTER", Some(&city))
        .await;
    let station = app
        .create_org(&root.access, "亭林社工站", "STATION", Some(&district))
        .await;
    let worker = app.register("13812341234", "社工小李").await;
    let district_admin = app.register("13800000001", "区管理员").await;
    let stranger = app.register("13800000002", "路人").await;
    let colleague = app.register("13800000003", "同事").await;
    app.add_member(&root.access, &station, "13812341234", "SOCIAL_WORKER")
        .await;
    app.add_member(&root.access, &station, "13800000003", "ORGANIZER")
        .await;
    app.add_member(&root.access, &district, "13800000001", "ADMIN")
        .await;

    let query = "query($id: ID!) { node(id: $id) { ... on Account { phone displayName } } }";
    let node_as = |token: String| {
        let app = &app;
        let id = worker.account_id.clone();
        async move { app.ok(Some(&token), query, json!({ "id": id })).await["node"].clone() }
    };
    // A stranger cannot look the account up at all; owner and administrator see the number.
    assert!(node_as(stranger.access.clone()).await.is_null());
    assert_eq!(node_as(worker.access.clone()).await["phone"], "13812341234");
    assert_eq!(
        node_as(district_admin.access.clone()).await["phone"],
        "13812341234"
    );

    // In the station's member list: whole for its administrators, masked for a fellow member
    // (except the fellow's own entry).
    let members = "query($id: ID!) { organization(id: $id) { members { edges { node { role account { id phone } } } } } }";
    let phone_of = |data: &serde_json::Value, id: &str| {
        data["organization"]["members"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["account"]["id"] == id)
            .map(|e| e["node"]["account"]["phone"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let data = app
        .ok(
            Some(&district_admin.access),
            members,
            json!({ "id": station }),
        )
        .await;
    assert_eq!(phone_of(&data, &worker.account_id), "13812341234");
    let data = app
        .ok(Some(&colleague.access), members, json!({ "id": station }))
        .await;
    assert_eq!(phone_of(&data, &worker.account_id), "138****1234");
    assert_eq!(phone_of(&data, &colleague.account_id), "13800000003");
    let code = app
        .err_code(Some(&stranger.access), members, json!({ "id": station }))
        .await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn organizations_paginate_with_cursors() {
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    for i in 0..5 {
        app.create_org(
            &root.access,
            &format!("区{i}"),
            "DISTRICT_CENTER",
            Some(&city),
        )
        .await;
    }
    let q = "query($a: String) { organizations(first: 2, after: $a, filter: {kind: DISTRICT_CENTER}) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }";
    let mut names = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = app.ok(None, q, json!({ "a": after })).await;
        let conn = &data["organizations"];
        for e in conn["edges"].as_array().unwrap() {
            names.push(e["node"]["name"].as_str().unwrap().to_owned());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(names, ["区0", "区1", "区2", "区3", "区4"]);
    let code = app
        .err_code(
            None,
            "{ organizations(first: 101) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_role_needs_an_invitation_its_numbers_owner_accepts() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let owner = app.register("13800000401", "新社工").await;
    let other = app.register("13800000402", "路人").await;
    let members = "query($o: ID!) { organization(id: $o) { members(first: 20) { nodes { role account { id } } } } }";
    let invited = app
        .ok(
            Some(&w.root.access),
            "mutation($o: ID!) { addMember(organizationId: $o, phone: \"138 0000 0401\", role: SOCIAL_WORKER) { id role acceptedAt organization { id } } }",
            json!({ "o": w.station }),
        )
        .await["addMember"]
        .clone();
    assert!(invited["acceptedAt"].is_null());
    assert_eq!(invited["organization"]["id"], w.station.as_str());
    // Nothing is granted yet.
    let before = app
        .ok(Some(&w.root.access), members, json!({ "o": w.station }))
        .await;
    let holds = |data: &serde_json::Value, who: &str| {
        data["organization"]["members"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["account"]["id"] == who)
    };
    assert!(!holds(&before, &owner.account_id));
    // Only the number's owner sees and accepts it.
    let mine = app
        .ok(
            Some(&owner.access),
            "{ myInvitations { id role } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["myInvitations"][0]["id"], invited["id"]);
    let theirs = app
        .ok(Some(&other.access), "{ myInvitations { id } }", json!({}))
        .await;
    assert_eq!(theirs["myInvitations"].as_array().unwrap().len(), 0);
    let accept = "mutation($id: ID!) { acceptInvitation(id: $id) { role organization { id } } }";
    assert_eq!(
        app.err_code(Some(&other.access), accept, json!({ "id": invited["id"] }))
            .await,
        "NOT_FOUND"
    );
    let accepted = app
        .ok(Some(&owner.access), accept, json!({ "id": invited["id"] }))
        .await;
    assert_eq!(accepted["acceptInvitation"]["role"], "SOCIAL_WORKER");
    let after = app
        .ok(Some(&w.root.access), members, json!({ "o": w.station }))
        .await;
    assert!(holds(&after, &owner.account_id));
    // Once.
    assert_eq!(
        app.err_code(Some(&owner.access), accept, json!({ "id": invited["id"] }))
            .await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn search_text_is_bounded() {
    let app = crate::harness::TestApp::spawn().await;
    let long = "社".repeat(51);
    for query in [
        "query($s: String!) { organizations(filter: {search: $s}) { edges { cursor } } }",
        "query($s: String!) { campaigns(filter: {search: $s}) { edges { cursor } } }",
    ] {
        let (_, body) = app
            .post(None, query, serde_json::json!({ "s": long }))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], "filter.search");
        app.ok(None, query, serde_json::json!({ "s": "社".repeat(50) }))
            .await;
    }
}
