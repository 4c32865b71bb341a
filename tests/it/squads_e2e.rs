//! Volunteer squads (issue 20, part 2): joining and leaving, who sees the members, and a squad
//! sign-up that never overbooks however many leaders and individuals rush one shift.

use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, World};

const CREATE: &str = "mutation($i: CreateSquadInput!) { createSquad(input: $i) { id name tags } }";
const MEMBERS: &str = "query($s: ID!) { squad(id: $s) { members { role status person { id } } figures { members } } }";

async fn squad(app: &TestApp, w: &World, name: &str, leaders: &[&str]) -> String {
    let data = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            json!({ "i": { "organizationId": w.station, "name": name, "tags": ["党员", "居民"],
                "leaderIds": leaders } }),
        )
        .await;
    data["createSquad"]["id"].as_str().unwrap().to_owned()
}

async fn call(app: &TestApp, token: &str, op: &str, s: &str, who: Option<&Session>) -> Value {
    let q = match who {
        Some(_) => format!(
            "mutation($s: ID!, $a: ID!) {{ {op}(squadId: $s, accountId: $a) {{ status role }} }}"
        ),
        None => format!("mutation($s: ID!) {{ {op}(squadId: $s) {{ status role }} }}"),
    };
    let vars = match who {
        Some(p) => json!({ "s": s, "a": p.account_id }),
        None => json!({ "s": s }),
    };
    app.post(Some(token), &q, vars).await.1
}

fn status(body: &Value, op: &str) -> String {
    body["data"][op]["status"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
}

#[tokio::test]
async fn people_apply_are_invited_leave_and_are_removed() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let leader = app.register("13800009001", "队长").await;
    let a = app.register("13800009002", "小李").await;
    let b = app.register("13800009003", "老王").await;
    let s = squad(&app, &w, "晋邻志愿分队", &[&leader.account_id]).await;
    // Only organizers create squads.
    assert_eq!(
        app.err_code(
            Some(&a.access),
            CREATE,
            json!({ "i": { "organizationId": w.station, "name": "x" } })
        )
        .await,
        "FORBIDDEN"
    );
    // A applies; until approved, A does not see the members.
    assert_eq!(
        status(
            &call(&app, &a.access, "applyToSquad", &s, None).await,
            "applyToSquad"
        ),
        "APPLIED"
    );
    assert_eq!(
        app.err_code(Some(&a.access), MEMBERS, json!({ "s": s }))
            .await,
        "FORBIDDEN"
    );
    // Only a leader approves.
    assert_eq!(
        status(
            &call(&app, &b.access, "approveSquadMember", &s, Some(&a)).await,
            "approveSquadMember"
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        status(
            &call(&app, &leader.access, "approveSquadMember", &s, Some(&a)).await,
            "approveSquadMember"
        ),
        "ACTIVE"
    );
    // Approving again: already a member.
    assert_eq!(
        status(
            &call(&app, &leader.access, "approveSquadMember", &s, Some(&a)).await,
            "approveSquadMember"
        ),
        "CONFLICT"
    );
    let seen = app.ok(Some(&a.access), MEMBERS, json!({ "s": s })).await;
    assert_eq!(seen["squad"]["figures"]["members"], 2);
    assert_eq!(seen["squad"]["members"][0]["role"], "LEADER");
    // B is invited and accepts, then leaves.
    assert_eq!(
        status(
            &call(&app, &leader.access, "inviteToSquad", &s, Some(&b)).await,
            "inviteToSquad"
        ),
        "INVITED"
    );
    assert_eq!(
        status(
            &call(&app, &b.access, "acceptSquadInvitation", &s, None).await,
            "acceptSquadInvitation"
        ),
        "ACTIVE"
    );
    let mine = app
        .ok(
            Some(&b.access),
            "{ me { squads { id name tags } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["me"]["squads"][0]["id"], s.as_str());
    assert_eq!(mine["me"]["squads"][0]["tags"], json!(["党员", "居民"]));
    assert_eq!(
        status(
            &call(&app, &b.access, "leaveSquad", &s, None).await,
            "leaveSquad"
        ),
        "LEFT"
    );
    let mine = app
        .ok(Some(&b.access), "{ me { squads { id } } }", json!({}))
        .await;
    assert_eq!(mine["me"]["squads"], json!([]));
    // A leader removes A; a leader is removed only by the organization's organizers.
    assert_eq!(
        status(
            &call(&app, &leader.access, "removeSquadMember", &s, Some(&a)).await,
            "removeSquadMember"
        ),
        "REMOVED"
    );
    let other_leader = app.register("13800009004", "副队长").await;
    app.post(
        Some(&w.organizer.access),
        "mutation($s: ID!, $a: ID!) { inviteToSquad(squadId: $s, accountId: $a) { status } }",
        json!({ "s": s, "a": other_leader.account_id }),
    )
    .await;
    call(
        &app,
        &other_leader.access,
        "acceptSquadInvitation",
        &s,
        None,
    )
    .await;
    app.ok(
        Some(&w.organizer.access),
        "mutation($s: ID!, $a: ID!) { setSquadRole(squadId: $s, accountId: $a, role: LEADER) { role } }",
        json!({ "s": s, "a": other_leader.account_id }),
    )
    .await;
    assert_eq!(
        status(
            &call(
                &app,
                &leader.access,
                "removeSquadMember",
                &s,
                Some(&other_leader)
            )
            .await,
            "removeSquadMember"
        ),
        "FORBIDDEN"
    );
    // The same name twice in one organization: refused.
    let (_, body) = app
        .post(
            Some(&w.organizer.access),
            CREATE,
            json!({ "i": { "organizationId": w.station, "name": "晋邻志愿分队" } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
}

/// 5 leaders each sign 10 members up while 100 individuals sign themselves up, all at once,
/// for a shift of 50 places with a waitlist — ten of the individuals are also members of the
/// first squad, so a member's own sign-up races the leader's: exactly 50 get a place, the
/// counter equals the rows, nobody holds two sign-ups, and everyone signed up is told.
#[tokio::test]
async fn a_squad_rush_never_overbooks_a_shift() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app.station_event(&w, "大型义诊").await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 50, true, &[])
        .await;
    let leaders = app.bulk_volunteers(5, "1380091").await;
    let members = app.bulk_volunteers(50, "1380092").await;
    let others = app.bulk_volunteers(90, "1380093").await;
    let solo: Vec<(i64, String)> = members[..10].iter().cloned().chain(others).collect();
    let mut squads = Vec::new();
    for (i, (leader, _)) in leaders.iter().enumerate() {
        let leader_id = api::ids::encode(api::ids::NodeType::Account, *leader);
        let s = squad(&app, &w, &format!("分队{i}"), &[leader_id.as_str()]).await;
        let key = api::ids::decode_any(&async_graphql::ID(s.clone()))
            .unwrap()
            .1;
        let now = chrono::Utc::now();
        let rows =
            members[i * 10..(i + 1) * 10]
                .iter()
                .map(|(m, _)| entity::squad_member::ActiveModel {
                    squad_id: sea_orm::Set(key),
                    account_id: sea_orm::Set(*m),
                    role: sea_orm::Set(entity::squad_member::SquadRole::Member),
                    status: sea_orm::Set(entity::squad_member::SquadMemberStatus::Active),
                    joined_at: sea_orm::Set(Some(now)),
                    created_at: sea_orm::Set(now),
                    updated_at: sea_orm::Set(now),
                    ..Default::default()
                });
        entity::squad_member::Entity::insert_many(rows)
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
        squads.push(s);
    }
    const GROUP: &str = "mutation($s: ID!, $sh: ID!, $m: [ID!]!, $k: String!) {
        signUpSquad(squadId: $s, shiftId: $sh, memberIds: $m, idempotencyKey: $k) {
            member { id } signup { id status } errorCode } }";
    let group_calls = leaders.iter().enumerate().map(|(i, (_, token))| {
        let ids: Vec<String> = members[i * 10..(i + 1) * 10]
            .iter()
            .map(|(m, _)| api::ids::encode(api::ids::NodeType::Account, *m).0)
            .collect();
        let (app, shift, s) = (&app, &shift, &squads[i]);
        async move {
            app.post(
                Some(token),
                GROUP,
                json!({ "s": s, "sh": shift, "m": ids, "k": format!("g{i}") }),
            )
            .await
            .1
        }
    });
    let solo_calls = solo
        .iter()
        .enumerate()
        .map(|(i, (_, token))| app.sign_up(token, &shift, format!("solo-{i}")));
    let (groups, singles) = tokio::join!(join_all(group_calls), join_all(solo_calls));
    let mut placed = 0;
    let mut signed_up = std::collections::HashSet::new();
    let mut by_squads = 0;
    for g in &groups {
        let outcomes = g["data"]["signUpSquad"]
            .as_array()
            .unwrap_or_else(|| panic!("{g}"));
        assert_eq!(outcomes.len(), 10);
        for o in outcomes {
            match o["signup"]["status"].as_str() {
                Some(status) => {
                    by_squads += 1;
                    placed += usize::from(status == "CONFIRMED");
                    assert!(signed_up.insert(o["member"]["id"].as_str().unwrap().to_owned()));
                }
                // The member signed themselves up first.
                None => assert_eq!(o["errorCode"], "ALREADY_SIGNED_UP", "{o}"),
            }
        }
    }
    // Squads 2 to 5 share nobody with the individuals: all 40 of theirs have a sign-up.
    assert!(by_squads >= 40, "{by_squads}");
    for (s, (id, _)) in singles.iter().zip(&solo) {
        match s["data"]["signUpForShift"]["status"].as_str() {
            Some(status) => {
                placed += usize::from(status == "CONFIRMED");
                let gid = api::ids::encode(api::ids::NodeType::Account, *id).0;
                assert!(signed_up.insert(gid), "two sign-ups for one person");
            }
            None => assert_eq!(
                s["errors"][0]["extensions"]["code"], "ALREADY_SIGNED_UP",
                "{s}"
            ),
        }
    }
    assert_eq!(placed, 50);
    assert_eq!(signed_up.len(), 140, "every person once");
    let key = api::ids::decode_any(&async_graphql::ID(shift.clone()))
        .unwrap()
        .1;
    let rows = entity::signup::Entity::find()
        .filter(entity::signup::Column::ShiftId.eq(key))
        .filter(entity::signup::Column::Status.eq(entity::signup::SignupStatus::Confirmed))
        .count(&app.state.db)
        .await
        .unwrap();
    let counted = entity::shift::Entity::find_by_id(key)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .confirmed_count;
    assert_eq!((rows, counted), (50, 50));
    // Everyone signed up was told, once: a place or the waitlist.
    let told: std::collections::HashSet<i64> = entity::notification::Entity::find()
        .filter(entity::notification::Column::ShiftId.eq(key))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.account_id)
        .collect();
    let expected: std::collections::HashSet<i64> = signed_up
        .iter()
        .map(|g| {
            api::ids::decode_any(&async_graphql::ID(g.clone()))
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(told, expected);
    // A leader's retry with the same key answers the same, and takes nothing more.
    let ids: Vec<String> = members[0..10]
        .iter()
        .map(|(m, _)| api::ids::encode(api::ids::NodeType::Account, *m).0)
        .collect();
    let again = app
        .post(
            Some(&leaders[0].1),
            GROUP,
            json!({ "s": squads[0], "sh": shift, "m": ids, "k": "g0" }),
        )
        .await
        .1;
    assert_eq!(again["data"], groups[0]["data"]);
    // Someone not in the squad cannot be signed up by its leader.
    let outsider = api::ids::encode(api::ids::NodeType::Account, solo[10].0);
    let (_, body) = app
        .post(
            Some(&leaders[0].1),
            GROUP,
            json!({ "s": squads[0], "sh": shift, "m": [outsider], "k": "x" }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "memberIds");
}

/// Shifts can require training; staff of the issuing organization record it; a sign-up without
/// it is refused, for a squad's member too, without undoing the others.
#[tokio::test]
async fn training_a_shift_requires_is_enforced_for_people_and_squads() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app.station_event(&w, "急救志愿服务").await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 10, false, &[])
        .await;
    let leader = app.register("13800009101", "队长").await;
    let trained = app.register("13800009102", "小李").await;
    let untrained = app.register("13800009103", "老王").await;
    const RECORD: &str = "mutation($i: RecordTrainingInput!) { recordTraining(input: $i) { course completedOn minutes issuer { id } } }";
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string();
    let training = |who: &Session, on: &str| {
        json!({ "i": { "accountId": who.account_id, "course": "急救培训", "completedOn": on,
            "minutes": 120, "issuerId": w.station } })
    };
    // A volunteer cannot record training; a future date is refused.
    assert_eq!(
        app.err_code(
            Some(&trained.access),
            RECORD,
            training(&trained, &yesterday)
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            RECORD,
            training(&trained, "2999-01-01")
        )
        .await,
        "BAD_USER_INPUT"
    );
    let got = app
        .ok(
            Some(&w.organizer.access),
            RECORD,
            training(&trained, &yesterday),
        )
        .await;
    assert_eq!(got["recordTraining"]["minutes"], 120);
    let mine = app
        .ok(
            Some(&trained.access),
            "{ me { trainings { course completedOn } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["me"]["trainings"][0]["course"], "急救培训");
    // The shift requires it (only its organizers say so).
    const SET: &str =
        "mutation($s: ID!, $c: [String!]!) { setShiftTraining(shiftId: $s, courses: $c) }";
    assert_eq!(
        app.err_code(
            Some(&trained.access),
            SET,
            json!({ "s": shift, "c": ["急救培训"] })
        )
        .await,
        "FORBIDDEN"
    );
    app.ok(
        Some(&w.organizer.access),
        SET,
        json!({ "s": shift, "c": ["急救培训"] }),
    )
    .await;
    let shown = app
        .ok(
            None,
            "query($s: ID!) { shift(id: $s) { requiredTraining } }",
            json!({ "s": shift }),
        )
        .await;
    assert_eq!(shown["shift"]["requiredTraining"], json!(["急救培训"]));
    // Alone: the untrained is refused, naming the course; the trained gets a place.
    let (_, body) = app
        .post(
            Some(&untrained.access),
            "mutation($s: ID!) { signUpForShift(shiftId: $s, idempotencyKey: \"u1\") { status } }",
            json!({ "s": shift }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("急救培训")
    );
    // Through a squad: the trained member gets a place, the untrained an error code.
    let s = squad(&app, &w, "急救分队", &[&leader.account_id]).await;
    for p in [&trained, &untrained] {
        call(&app, &leader.access, "inviteToSquad", &s, Some(p)).await;
        call(&app, &p.access, "acceptSquadInvitation", &s, None).await;
    }
    let out = app
        .ok(
            Some(&leader.access),
            "mutation($s: ID!, $sh: ID!, $m: [ID!]!) { signUpSquad(squadId: $s, shiftId: $sh, memberIds: $m, idempotencyKey: \"t\") { member { id } signup { status } errorCode } }",
            json!({ "s": s, "sh": shift, "m": [trained.account_id, untrained.account_id] }),
        )
        .await;
    let outcomes = out["signUpSquad"].as_array().unwrap();
    let of = |who: &Session| {
        outcomes
            .iter()
            .find(|o| o["member"]["id"] == who.account_id.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(of(&trained)["signup"]["status"], "CONFIRMED");
    assert_eq!(of(&untrained)["errorCode"], "FORBIDDEN");
}
