//! Micro-wishes over HTTP: one claimant among many, lapsed claims reopen, fulfilment and
//! confirmation by the right people.

use futures::future::join_all;
use serde_json::json;

use crate::harness::TestApp;

const POST: &str =
    "mutation($i: PostMicroWishInput!) { postMicroWish(input: $i) { id status beneficiaryAlias } }";
const CLAIM: &str =
    "mutation($id: ID!) { claimMicroWish(id: $id) { status claimedByMe claimExpiresAt } }";
const WISH: &str = "query($id: ID!) { node(id: $id) { ... on MicroWish { status claimedByMe claimantName fulfilmentNote } } }";

#[tokio::test]
async fn twenty_concurrent_claims_make_one_claimant_and_a_lapsed_claim_reopens() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let wish = app
        .ok(
            Some(&w.organizer.access),
            POST,
            json!({ "i": { "organizationId": w.station, "title": "一台收音机", "story": "独居老人想听戏",
                           "budgetFen": 15_000, "beneficiaryAlias": "张奶奶" } }),
        )
        .await["postMicroWish"]
        .clone();
    assert_eq!(wish["status"], "OPEN");
    let id = wish["id"].as_str().unwrap().to_owned();
    let volunteers = app.bulk_volunteers(20, "1370000").await;

    let answers = join_all(
        volunteers
            .iter()
            .map(|(_, token)| app.post(Some(token), CLAIM, json!({ "id": id }))),
    )
    .await;
    let winners: Vec<usize> = (0..answers.len())
        .filter(|&i| answers[i].1["errors"].is_null())
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (i, (_, body)) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
        }
    }
    let winner = &volunteers[winners[0]].1;
    let loser = &volunteers[(winners[0] + 1) % 20].1;
    let seen = app.ok(Some(winner), WISH, json!({ "id": id })).await;
    assert_eq!(seen["node"]["status"], "CLAIMED");
    assert_eq!(seen["node"]["claimedByMe"], true);
    assert!(
        seen["node"]["claimantName"].is_null(),
        "volunteers do not see claimants"
    );
    let staff = app
        .ok(Some(&w.organizer.access), WISH, json!({ "id": id }))
        .await;
    assert!(staff["node"]["claimantName"].is_string());
    // Someone else cannot report it fulfilled.
    assert_eq!(
        app.err_code(
            Some(loser),
            "mutation($id: ID!) { fulfillMicroWish(id: $id, note: \"x\") { status } }",
            json!({ "id": id })
        )
        .await,
        "FORBIDDEN"
    );

    // The claim lapses: the wish reads OPEN at once, someone else may claim it, and upkeep
    // rewrites lapsed rows.
    let key = match api::ids::decode_any(&id) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    {
        use entity::micro_wish as mw;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        mw::Entity::update_many()
            .col_expr(
                mw::Column::ClaimExpiresAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
            )
            .filter(mw::Column::Id.eq(key))
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    let seen = app.ok(None, WISH, json!({ "id": id })).await;
    assert_eq!(seen["node"]["status"], "OPEN");
    let open = app
        .ok(
            None,
            "{ microWishes(first: 10, filter: {status: OPEN}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(open["microWishes"]["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(
        app.err_code(
            Some(winner),
            "mutation($id: ID!) { fulfillMicroWish(id: $id) { status } }",
            json!({ "id": id })
        )
        .await,
        "FORBIDDEN",
        "a lapsed claim cannot be fulfilled"
    );
    assert_eq!(
        api::wishes::service::release_lapsed_claims(&app.state.db, chrono::Utc::now())
            .await
            .unwrap(),
        1
    );
    let row = api::wishes::service::get(&app.state.db, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, entity::micro_wish::WishStatus::Open);
    assert_eq!(row.claimed_by, None);

    // A new claimant fulfils it; staff confirm.
    let c = app.ok(Some(loser), CLAIM, json!({ "id": id })).await;
    assert_eq!(c["claimMicroWish"]["status"], "CLAIMED");
    let f = app
        .ok(
            Some(loser),
            "mutation($id: ID!) { fulfillMicroWish(id: $id, note: \"已送到\") { status fulfilmentNote } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(f["fulfillMicroWish"]["status"], "FULFILLED");
    assert_eq!(
        app.err_code(
            Some(loser),
            "mutation($id: ID!) { confirmMicroWish(id: $id) { status } }",
            json!({ "id": id })
        )
        .await,
        "FORBIDDEN"
    );
    let done = app
        .ok(
            Some(&w.organizer.access),
            "mutation($id: ID!) { confirmMicroWish(id: $id) { status confirmedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(done["confirmMicroWish"]["status"], "CONFIRMED");
    assert_eq!(
        app.err_code(Some(winner), CLAIM, json!({ "id": id })).await,
        "CONFLICT"
    );
}

#[tokio::test]
async fn only_staff_post_wishes_and_budgets_are_bounded() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let v = app.register("13800000001", "志愿者").await;
    let input = |budget: i64| {
        json!({ "i": { "organizationId": w.station, "title": "书包", "budgetFen": budget,
                       "beneficiaryAlias": "小明" } })
    };
    assert_eq!(
        app.err_code(Some(&v.access), POST, input(100)).await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), POST, input(100))
            .await,
        "FORBIDDEN"
    );
    for bad in [0, -1, 100_000_001] {
        assert_eq!(
            app.err_code(Some(&w.organizer.access), POST, input(bad))
                .await,
            "BAD_USER_INPUT"
        );
    }
    app.ok(Some(&w.organizer.access), POST, input(100)).await;
    // Listed under the district (subtree), not under the other station.
    let under = |org: &str| json!({ "f": { "organizationId": org } });
    let q = "query($f: MicroWishFilter!) { microWishes(first: 10, filter: $f) { edges { node { title } } } }";
    let d = app.ok(None, q, under(&w.district)).await;
    assert_eq!(d["microWishes"]["edges"].as_array().unwrap().len(), 1);
    let o = app.ok(None, q, under(&w.other_station)).await;
    assert_eq!(o["microWishes"]["edges"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn one_account_cannot_hoard_wishes_even_claiming_them_all_at_once() {
    let app = TestApp::spawn_with(|c| c.wish_claims_per_account = 3).await;
    let w = app.world().await;
    let mut ids = Vec::new();
    for n in 0..10 {
        let wish = app
            .ok(
                Some(&w.organizer.access),
                POST,
                json!({ "i": { "organizationId": w.station, "title": format!("心愿{n}"), "story": "x",
                               "budgetFen": 1_000, "beneficiaryAlias": "张奶奶" } }),
            )
            .await["postMicroWish"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        ids.push(wish);
    }
    let hoarder = app.register("13800000001", "囤积者").await;
    let answers = join_all(
        ids.iter()
            .map(|id| app.post(Some(&hoarder.access), CLAIM, json!({ "id": id }))),
    )
    .await;
    let won = answers
        .iter()
        .filter(|(_, b)| b["errors"].is_null())
        .count();
    assert_eq!(won, 3, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(_, b)| !b["errors"].is_null())
            .all(|(_, b)| b["errors"][0]["extensions"]["code"] == "CONFLICT")
    );
    // Someone else still finds wishes to take.
    let other = app.register("13800000002", "热心人").await;
    let free = ids
        .iter()
        .zip(&answers)
        .find(|(_, (_, b))| !b["errors"].is_null())
        .unwrap()
        .0;
    app.ok(Some(&other.access), CLAIM, json!({ "id": free }))
        .await;
}

#[tokio::test]
async fn a_wish_is_read_by_id_by_anyone_and_a_wrong_id_is_named() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let id = app
        .ok(
            Some(&w.organizer.access),
            POST,
            json!({ "i": { "organizationId": w.station, "title": "一台收音机", "story": "独居老人想听戏",
                           "budgetFen": 15_000, "beneficiaryAlias": "张奶奶" } }),
        )
        .await["postMicroWish"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = "query($id: ID!) { microWish(id: $id) { id title status } }";
    let data = app.ok(None, one, json!({ "id": id })).await;
    assert_eq!(data["microWish"]["id"], id.as_str());
    assert_eq!(data["microWish"]["status"], "OPEN");
    let nobody = api::ids::encode(api::ids::NodeType::MicroWish, 999_999).0;
    let data = app.ok(None, one, json!({ "id": nobody })).await;
    assert!(data["microWish"].is_null());
    // An ID of another type is the client's mistake, on its field.
    let (_, body) = app.post(None, one, json!({ "id": w.station })).await;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
}
