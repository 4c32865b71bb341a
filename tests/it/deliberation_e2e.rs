//! Residents' deliberation (议事): topics raised for a community, one support per person under
//! concurrency, a status history moved by the staff (and by a recorded meeting), links to what
//! paid for a topic, moderation, and the community page's counts against a hand count.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::TestApp;

const RAISE: &str = "mutation($i: RaiseTopicInput!) { raiseTopic(input: $i) { id status supporters raisedByMe photoUrls organization { id } } }";
const SUPPORT: &str = "mutation($id: ID!) { supportTopic(id: $id) { supporters supportedByMe } }";
const UNSUPPORT: &str =
    "mutation($id: ID!) { withdrawTopicSupport(id: $id) { supporters supportedByMe } }";
const MOVE: &str = "mutation($id: ID!, $to: TopicStatus!, $note: String!) { moveTopic(id: $id, to: $to, note: $note) { status } }";
const READ: &str =
    "query($id: ID!) { topic(id: $id) { title status supporters raisedByMe hiddenReason
    history { fromStatus toStatus note } meetings { attendees checkedIn minutes event { title } }
    microWish { title } project { title } } }";
const LIST: &str = "query($o: ID!, $h: Boolean!) { topics(organizationId: $o, includeHidden: $h, first: 50) { totalCount edges { node { title status } } } }";
const COUNTS: &str = "query($o: ID!) { topicCounts(organizationId: $o) { raised discussing resolved implemented followingUp declined solved } }";
const MEETING: &str =
    "mutation($i: RecordTopicMeetingInput!) { recordTopicMeeting(input: $i) { status } }";

fn topic(org: &str, title: &str, category: &str) -> Value {
    json!({ "i": { "organizationId": org, "title": title, "category": category,
        "description": "小区东侧空地想装几件健身器材，老人们每天都在那里活动",
        "photoUrls": ["https://img.example.cn/topic/1.jpg", "https://img.example.cn/topic/2.jpg"] } })
}

fn id_of(v: &Value, field: &str) -> String {
    v[field]["id"].as_str().unwrap().to_owned()
}

/// An event of category COMMUNITY_GOVERNANCE (议事会) at `org`, by `token`.
async fn meeting_event(
    app: &TestApp,
    token: &str,
    org: &str,
    title: &str,
    category: &str,
) -> String {
    let starts = chrono::Utc::now() + chrono::Duration::days(2);
    let id = app
        .ok(
            Some(token),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": {
                "organizationId": org, "title": title, "category": category,
                "address": "城北社区议事厅", "latitude": 31.3801, "longitude": 120.98,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339()
            } }),
        )
        .await["createEvent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(token),
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    id
}

#[tokio::test]
async fn residents_raise_and_support_topics_once_each_and_the_staff_move_them_with_a_history() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let resident = app.register("13800008101", "居民老王").await;

    // Raising: signed in, for a station or room, valid photos.
    assert_eq!(
        app.err_code(None, RAISE, topic(&w.station, "增设健身器材", "FACILITIES"))
            .await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err_code(
            Some(&resident.access),
            RAISE,
            topic(&w.district, "增设健身器材", "FACILITIES")
        )
        .await,
        "BAD_USER_INPUT"
    );
    let mut bad = topic(&w.station, "增设健身器材", "FACILITIES");
    bad["i"]["photoUrls"] = json!(["javascript:alert(1)"]);
    assert_eq!(
        app.err_code(Some(&resident.access), RAISE, bad).await,
        "BAD_USER_INPUT"
    );
    let raised = app
        .ok(
            Some(&resident.access),
            RAISE,
            topic(&w.station, "增设健身器材", "FACILITIES"),
        )
        .await;
    let t = &raised["raiseTopic"];
    assert_eq!(t["status"], "RAISED");
    assert_eq!(t["raisedByMe"], true);
    assert_eq!(t["photoUrls"].as_array().unwrap().len(), 2);
    let id = t["id"].as_str().unwrap().to_owned();

    // The raiser's data export holds it.
    let export = app
        .ok(Some(&resident.access), "{ exportMyData }", json!({}))
        .await["exportMyData"]
        .clone();
    assert_eq!(export["topicsRaised"][0]["title"], "增设健身器材");

    // Anyone reads it; nobody else is its raiser.
    let public = app.ok(None, READ, json!({ "id": id })).await;
    assert_eq!(public["topic"]["title"], "增设健身器材");
    assert_eq!(public["topic"]["raisedByMe"], false);

    // Support: twelve residents, each pressing three times at once, count twelve.
    let people = app.bulk_volunteers(12, "1380081").await;
    let presses = people
        .iter()
        .flat_map(|(_, token)| (0..3).map(|_| app.post(Some(token), SUPPORT, json!({ "id": id }))));
    let outcomes = futures::future::join_all(presses).await;
    assert!(
        outcomes.iter().all(|(_, r)| r["errors"].is_null()),
        "{outcomes:?}"
    );
    let key = api::ids::decode_any(&id).unwrap().1;
    let rows = entity::topic_support::Entity::find()
        .filter(entity::topic_support::Column::TopicId.eq(key))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows, 12);
    assert_eq!(
        app.ok(None, READ, json!({ "id": id })).await["topic"]["supporters"],
        12
    );
    // Withdrawing takes one back, once.
    let first = &people[0].1;
    let back = app.ok(Some(first), UNSUPPORT, json!({ "id": id })).await;
    assert_eq!(
        back["withdrawTopicSupport"],
        json!({ "supporters": 11, "supportedByMe": false })
    );
    let again = app.ok(Some(first), UNSUPPORT, json!({ "id": id })).await;
    assert_eq!(again["withdrawTopicSupport"]["supporters"], 11);
    let export = app
        .ok(Some(&people[1].1), "{ exportMyData }", json!({}))
        .await["exportMyData"]
        .clone();
    assert_eq!(export["topicSupports"].as_array().unwrap().len(), 1);
    let mine = app
        .ok(Some(&people[1].1), SUPPORT, json!({ "id": id }))
        .await;
    assert_eq!(
        mine["supportTopic"],
        json!({ "supporters": 11, "supportedByMe": true })
    );

    // Moving: the staff only, along the flow.
    let to = |status: &str, note: &str| json!({ "id": id, "to": status, "note": note });
    assert_eq!(
        app.err_code(Some(&resident.access), MOVE, to("DISCUSSING", ""))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), MOVE, to("DISCUSSING", ""))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&w.organizer.access), MOVE, to("RESOLVED", ""))
            .await,
        "CONFLICT"
    );
    // A meeting: only a community-governance event of the topic's line counts; recording one
    // takes the topic into discussion.
    let party = meeting_event(
        &app,
        &w.organizer.access,
        &w.station,
        "重阳敬老",
        "ELDERLY_CARE",
    )
    .await;
    let council = meeting_event(
        &app,
        &w.organizer.access,
        &w.station,
        "城北社区居民议事会",
        "COMMUNITY_GOVERNANCE",
    )
    .await;
    let elsewhere = meeting_event(
        &app,
        &w.other_organizer.access,
        &w.other_station,
        "周市议事会",
        "COMMUNITY_GOVERNANCE",
    )
    .await;
    let meeting = |event: &str| {
        json!({ "i": { "topicId": id, "eventId": event, "attendees": 23,
        "minutes": "到会居民 23 人，同意在东侧空地安装 6 件健身器材，由社区微更新项目出资" } })
    };
    for wrong in [&party, &elsewhere] {
        assert_eq!(
            app.err_code(Some(&w.organizer.access), MEETING, meeting(wrong))
                .await,
            "BAD_USER_INPUT"
        );
    }
    // Two residents came with the app and checked in at the meeting.
    let shift = app
        .shift_in(&w.organizer.access, &council, 30, false, &[])
        .await;
    for (_, token) in &people[..2] {
        let s = app.sign_up(token, &shift, "meeting").await;
        assert!(s["errors"].is_null(), "{s}");
    }
    for (_, token) in &people[..2] {
        app.serve_an_hour(token, &shift).await;
    }
    let met = app
        .ok(Some(&w.organizer.access), MEETING, meeting(&council))
        .await;
    assert_eq!(met["recordTopicMeeting"]["status"], "DISCUSSING");
    // Six staff decide at once: one decision lands, the others are told it changed.
    let racing =
        (0..6).map(|_| app.post(Some(&w.organizer.access), MOVE, to("RESOLVED", "议定安装")));
    let outcomes = futures::future::join_all(racing).await;
    let landed = outcomes
        .iter()
        .filter(|(_, r)| r["errors"].is_null())
        .count();
    let refused = outcomes
        .iter()
        .filter(|(_, r)| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((landed, refused), (1, 5), "{outcomes:?}");
    app.ok(
        Some(&w.organizer.access),
        MOVE,
        to("IMPLEMENTED", "器材已安装"),
    )
    .await;
    // Done: no more support.
    assert_eq!(
        app.err_code(Some(&resident.access), SUPPORT, json!({ "id": id }))
            .await,
        "CONFLICT"
    );

    // What paid for it: a micro-wish of the station, not a project of another line.
    let wish = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: PostMicroWishInput!) { postMicroWish(input: $i) { id } }",
            json!({ "i": { "organizationId": w.station, "title": "健身器材安装费", "story": "社区微更新",
                "budgetFen": 50000, "beneficiaryAlias": "城北社区" } }),
        )
        .await;
    let wish = id_of(&wish, "postMicroWish");
    const LINK: &str =
        "mutation($i: LinkTopicInput!) { linkTopic(input: $i) { microWish { title } } }";
    assert_eq!(
        app.err_code(
            Some(&resident.access),
            LINK,
            json!({ "i": { "topicId": id, "microWishId": wish } })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            LINK,
            json!({ "i": { "topicId": id } })
        )
        .await,
        "BAD_USER_INPUT"
    );
    // Another station's micro-wish did not pay for this community's topic.
    let foreign = app
        .ok(
            Some(&w.other_organizer.access),
            "mutation($i: PostMicroWishInput!) { postMicroWish(input: $i) { id } }",
            json!({ "i": { "organizationId": w.other_station, "title": "别处的心愿", "story": "",
                "budgetFen": 100, "beneficiaryAlias": "周市" } }),
        )
        .await;
    let foreign = id_of(&foreign, "postMicroWish");
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            LINK,
            json!({ "i": { "topicId": id, "microWishId": foreign } })
        )
        .await,
        "BAD_USER_INPUT"
    );
    let linked = app
        .ok(
            Some(&w.organizer.access),
            LINK,
            json!({ "i": { "topicId": id, "microWishId": wish } }),
        )
        .await;
    assert_eq!(linked["linkTopic"]["microWish"]["title"], "健身器材安装费");

    // The history, in order, as anyone reads it.
    let read = app.ok(None, READ, json!({ "id": id })).await;
    assert_eq!(
        read["topic"]["history"],
        json!([
            { "fromStatus": null, "toStatus": "RAISED", "note": "" },
            { "fromStatus": "RAISED", "toStatus": "DISCUSSING", "note": "议事会：城北社区居民议事会" },
            { "fromStatus": "DISCUSSING", "toStatus": "RESOLVED", "note": "议定安装" },
            { "fromStatus": "RESOLVED", "toStatus": "IMPLEMENTED", "note": "器材已安装" }
        ])
    );
    assert_eq!(
        read["topic"]["meetings"],
        json!([{ "attendees": 23, "checkedIn": 2, "minutes": "到会居民 23 人，同意在东侧空地安装 6 件健身器材，由社区微更新项目出资",
                 "event": { "title": "城北社区居民议事会" } }])
    );
}

#[tokio::test]
async fn the_community_page_counts_what_is_solved_and_followed_up_and_hidden_topics_leave_it() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let resident = app.register("13800008201", "居民小李").await;
    let staff = &w.organizer.access;
    let raise = |title: &'static str, category: &'static str| {
        let (app, token, station) = (&app, resident.access.clone(), w.station.clone());
        async move {
            app.ok(Some(&token), RAISE, topic(&station, title, category))
                .await["raiseTopic"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let walk = |id: String, path: &'static [(&'static str, &'static str)]| {
        let (app, token) = (&app, staff.to_owned());
        async move {
            for (status, note) in path {
                app.ok(
                    Some(&token),
                    MOVE,
                    json!({ "id": id, "to": status, "note": note }),
                )
                .await;
            }
        }
    };
    // The article's squad: benches and a charging shed done, fitness equipment decided,
    // rubbish sorting and dog-keeping followed up, one declined, one just raised.
    let benches = raise("增设休闲座椅", "FACILITIES").await;
    walk(
        benches,
        &[("DISCUSSING", ""), ("RESOLVED", ""), ("IMPLEMENTED", "")],
    )
    .await;
    let shed = raise("建电瓶车充电棚", "SAFETY").await;
    walk(
        shed,
        &[("DISCUSSING", ""), ("RESOLVED", ""), ("IMPLEMENTED", "")],
    )
    .await;
    let fitness = raise("增设健身器材", "FACILITIES").await;
    walk(fitness, &[("DISCUSSING", ""), ("RESOLVED", "")]).await;
    let rubbish = raise("垃圾分类", "ENVIRONMENT").await;
    walk(
        rubbish,
        &[("DISCUSSING", ""), ("FOLLOWING_UP", "需长期督导")],
    )
    .await;
    let dogs = raise("文明养犬", "NEIGHBOURHOOD").await;
    walk(
        dogs,
        &[("DISCUSSING", ""), ("FOLLOWING_UP", "分批入户宣传")],
    )
    .await;
    let parking = raise("禁止外来车辆停放", "OTHER").await;
    // Declining needs a reason.
    assert_eq!(
        app.err_code(
            Some(staff),
            MOVE,
            json!({ "id": parking, "to": "DECLINED", "note": "" })
        )
        .await,
        "BAD_USER_INPUT"
    );
    walk(parking, &[("DECLINED", "属物业管理事项")]).await;
    let _new = raise("楼道照明改造", "SAFETY").await;
    let rude = raise("某某家太吵", "NEIGHBOURHOOD").await;

    // Moderation: the staff hide a topic that names a neighbour; strangers and other
    // stations' staff may not.
    const HIDE: &str =
        "mutation($id: ID!) { hideTopic(id: $id, reason: PERSONAL_DATA) { hiddenReason } }";
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), HIDE, json!({ "id": rude }))
            .await,
        "FORBIDDEN"
    );
    app.ok(Some(staff), HIDE, json!({ "id": rude })).await;
    assert_eq!(
        app.err_code(None, READ, json!({ "id": rude })).await,
        "NOT_FOUND"
    );
    let own = app
        .ok(Some(&resident.access), READ, json!({ "id": rude }))
        .await;
    assert_eq!(own["topic"]["hiddenReason"], "PERSONAL_DATA");
    assert_eq!(
        app.err_code(None, LIST, json!({ "o": w.station, "h": true }))
            .await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err_code(
            Some(&resident.access),
            LIST,
            json!({ "o": w.station, "h": true })
        )
        .await,
        "FORBIDDEN"
    );
    let public = app
        .ok(None, LIST, json!({ "o": w.station, "h": false }))
        .await;
    assert_eq!(public["topics"]["totalCount"], 7);
    let staff_view = app
        .ok(Some(staff), LIST, json!({ "o": w.station, "h": true }))
        .await;
    assert_eq!(staff_view["topics"]["totalCount"], 8);
    let hidden_audit = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("topic.hide"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(hidden_audit, 1);

    // The page's counts, by hand: 2 done + 1 decided = 3 solved, 2 followed up, 1 declined,
    // 1 raised; the hidden one left out. The district above counts the same; the other
    // station nothing.
    let expected = json!({ "raised": 1, "discussing": 0, "resolved": 1, "implemented": 2,
        "followingUp": 2, "declined": 1, "solved": 3 });
    for org in [&w.station, &w.district] {
        assert_eq!(
            app.ok(None, COUNTS, json!({ "o": org })).await["topicCounts"],
            expected
        );
    }
    assert_eq!(
        app.ok(None, COUNTS, json!({ "o": w.other_station })).await["topicCounts"]["solved"],
        0
    );
    // Restored, it counts again.
    app.ok(
        Some(staff),
        "mutation($id: ID!) { restoreTopic(id: $id) { hiddenReason } }",
        json!({ "id": rude }),
    )
    .await;
    assert_eq!(
        app.ok(None, COUNTS, json!({ "o": w.station })).await["topicCounts"]["raised"],
        2
    );

    // An API client reads the topics with `public:read`, and may not raise or support one.
    let created = app
        .ok(
            Some(&w.organizer.access),
            crate::clients_e2e::CREATE,
            json!({ "i": { "organizationId": w.station, "name": "区平台", "scopes": ["PUBLIC_READ", "ORG_READ", "EVENTS_WRITE"] } }),
        )
        .await;
    let c = &created["createApiClient"];
    let (_, body) = crate::clients_e2e::grant(
        &app,
        c["client"]["clientId"].as_str().unwrap(),
        c["clientSecret"].as_str().unwrap(),
    )
    .await;
    let bearer = body["access_token"].as_str().unwrap().to_owned();
    let listed = app
        .ok(Some(&bearer), LIST, json!({ "o": w.station, "h": false }))
        .await;
    assert_eq!(listed["topics"]["totalCount"], 8);
    assert_eq!(
        app.err_code(
            Some(&bearer),
            RAISE,
            topic(&w.station, "接入系统代提", "OTHER")
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&bearer), SUPPORT, json!({ "id": rude }))
            .await,
        "FORBIDDEN"
    );
    // A supporter takes their support back from a hidden topic; others still cannot see it.
    let (_, supporter) = &app.bulk_volunteers(1, "1380082").await[0];
    app.ok(Some(supporter), SUPPORT, json!({ "id": rude }))
        .await;
    app.ok(Some(staff), HIDE, json!({ "id": rude })).await;
    let back = app
        .ok(Some(supporter), UNSUPPORT, json!({ "id": rude }))
        .await;
    assert_eq!(back["withdrawTopicSupport"]["supportedByMe"], false);
    assert_eq!(
        app.err_code(Some(supporter), UNSUPPORT, json!({ "id": rude }))
            .await,
        "NOT_FOUND"
    );
    app.ok(
        Some(staff),
        "mutation($id: ID!) { restoreTopic(id: $id) { hiddenReason } }",
        json!({ "id": rude }),
    )
    .await;

    // Hidden again: the client, registered by the station's own staff, sees none of it.
    app.ok(Some(staff), HIDE, json!({ "id": rude })).await;
    assert_eq!(
        app.err_code(Some(&bearer), READ, json!({ "id": rude }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code(Some(&bearer), LIST, json!({ "o": w.station, "h": true }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.ok(
            Some(&bearer),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": rude })
        )
        .await["node"],
        Value::Null
    );
}

/// A page of topics with their history, meetings, the caller's support and what paid for
/// them costs the same few statements at any page size: each relation is one batched read.
#[tokio::test]
async fn a_page_of_topics_reads_each_relation_once_whatever_its_size() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let resident = app.register("13800008301", "居民小赵").await;
    let council = meeting_event(
        &app,
        &w.organizer.access,
        &w.station,
        "议事会",
        "COMMUNITY_GOVERNANCE",
    )
    .await;
    for i in 0..6 {
        let id = app
            .ok(
                Some(&resident.access),
                RAISE,
                topic(&w.station, &format!("议题{i}"), "OTHER"),
            )
            .await["raiseTopic"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.ok(Some(&resident.access), SUPPORT, json!({ "id": id }))
            .await;
        app.ok(
            Some(&w.organizer.access),
            MEETING,
            json!({ "i": { "topicId": id, "eventId": council, "attendees": 5, "minutes": "纪要" } }),
        )
        .await;
    }
    let key = api::ids::decode_any(&resident.account_id).unwrap().1;
    let schema = api::build_schema(app.state.clone());
    let query = "query($o: ID!, $n: Int!) { topics(organizationId: $o, first: $n) { edges { node {
        title supporters supportedByMe history { toStatus } meetings { attendees checkedIn } microWish { title } } } } }";
    let mut counts = Vec::new();
    for n in [1, 50] {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(
                json!({ "o": w.station, "n": n }),
            ))
            .data(std::sync::Arc::new(api::auth::Viewer::account(key, None)));
        let (response, statements) = api::db::count_statements(schema.execute(request)).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let edges = data["topics"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n.min(6) as usize);
        assert_eq!(edges[0]["node"]["supportedByMe"], true);
        assert_eq!(edges[0]["node"]["history"].as_array().unwrap().len(), 2);
        counts.push(statements);
    }
    // viewer; page; history; meetings; supports; check-ins (micro-wishes: none linked)
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[1] <= 6, "{counts:?}");
}
