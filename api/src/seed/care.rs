//! Demo people served (issue 21): the article's 许老伯, who lost his only child, and 戈老伯,
//! blind and living alone, on the register of 亭林 with the consents that allow it, each with
//! a care plan (四方关爱) begun two weeks ago and the visits made since: one noticed low
//! spirits (an alert the station handled), one found 戈老伯 without his home-care worker (a
//! help request).

use chrono::{Duration, NaiveDate};
use entity::{
    account,
    care_consent::{ConsentGiver, ConsentMeans},
    care_recipient::AgeGroup,
};

use super::SeedSummary;
use crate::{
    AppState,
    care::{
        plans::{self, LoggedVisit, NewPlan, NewTask},
        register::{self, CareCategory, ConsentPurpose, Contact, NewConsent, Personal},
    },
};

/// Register the demo people served at `station`, with their plans and visits: the station's
/// `organizer` calls, the `admin` visits for civil affairs, a `volunteer` visits 戈老伯.
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
    organizer: &account::Model,
    volunteer: &account::Model,
    station: i64,
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    let people = [
        (
            "许老伯",
            AgeGroup::Senior,
            vec![CareCategory::BereavedParents, CareCategory::LivingAlone],
            "一对一心理疏导，每周电话问候，每月入户",
            ConsentGiver::Person,
            "许老伯",
            ConsentMeans::Written,
        ),
        (
            "戈老伯",
            AgeGroup::Elderly80Plus,
            vec![CareCategory::LivingAlone, CareCategory::Disability],
            "双目失明，居家养老服务中断时需志愿者上门助餐、助洁",
            ConsentGiver::Agent,
            "戈小军",
            ConsentMeans::OralRecorded,
        ),
    ];
    let mut ids = Vec::new();
    for (i, (name, age, categories, needs, by, consenter, means)) in people.into_iter().enumerate()
    {
        let recipient = register::register(
            &state.db,
            &state.care_vault,
            admin,
            register::NewRecipient {
                organization: station,
                personal: Personal {
                    name: name.into(),
                    address: format!("亭林街道城北社区{}栋{}室", 3 + i, 502 + i),
                    latitude: Some(31.3901 + 0.001 * i as f64),
                    longitude: Some(120.9712),
                    needs: needs.into(),
                    contacts: vec![Contact {
                        name: "社区网格员".into(),
                        relation: "网格员".into(),
                        phone: "0512-57560000".into(),
                    }],
                },
                age_group: age,
                categories,
                consent: NewConsent {
                    given_by: by,
                    name: consenter.into(),
                    purposes: vec![
                        ConsentPurpose::Register,
                        ConsentPurpose::CareVisits,
                        ConsentPurpose::ShareWithVolunteers,
                    ],
                    means,
                    given_on: today - Duration::days(20),
                },
            },
        )
        .await?;
        summary.people_registered += 1;
        ids.push(recipient.id);
    }

    let task = |party, kind, cadence, who: &account::Model| NewTask {
        party,
        kind,
        cadence,
        assignee: who.id,
    };
    use entity::care_task::{Cadence, CareParty as P, CareTaskKind as K};
    let starts_on = today - Duration::days(14);
    let (_, xu) = plans::create(
        &state.db,
        admin,
        NewPlan {
            recipient: ids[0],
            starts_on,
            tasks: vec![
                task(P::CommunityWorker, K::PhoneCall, Cadence::Weekly, organizer),
                task(P::CivilAffairs, K::HomeVisit, Cadence::Monthly, admin),
            ],
        },
    )
    .await?;
    let (_, ge) = plans::create(
        &state.db,
        admin,
        NewPlan {
            recipient: ids[1],
            starts_on,
            tasks: vec![
                task(P::Volunteer, K::HomeVisit, Cadence::Weekly, volunteer),
                task(P::ThirdParty, K::PhoneCall, Cadence::Fortnightly, organizer),
            ],
        },
    )
    .await?;
    summary.care_plans += 2;
    use entity::care_visit::Observation::{Concern, Ok as Fine, Urgent};
    let visit = |task: i64, days_ago: i64, mood, health, notes: &str| LoggedVisit {
        task,
        visited_on: today - Duration::days(days_ago),
        health,
        safety: Fine,
        living: Fine,
        mood,
        notes: notes.into(),
        raise_help: false,
    };
    let vault = &state.care_vault;
    // 许老伯's weekly call: fine two weeks ago; low spirits last week, which the station
    // handled with a counsellor's visit.
    plans::log_visit(
        &state.db,
        vault,
        organizer,
        visit(xu[0].id, 14, Fine, Fine, "电话问候，精神尚可"),
    )
    .await?;
    let (low, _) = plans::log_visit(
        &state.db,
        vault,
        organizer,
        visit(xu[0].id, 7, Concern, Fine, "近日情绪低落，提及孩子忌日"),
    )
    .await?;
    plans::handle_alert(&state.db, admin, low.id).await?;
    plans::log_visit(
        &state.db,
        vault,
        admin,
        visit(xu[1].id, 13, Fine, Fine, "入户走访，居家环境整洁"),
    )
    .await?;
    // 戈老伯's volunteer found him without his home-care worker: a help request.
    plans::log_visit(
        &state.db,
        vault,
        volunteer,
        visit(
            ge[0].id,
            7,
            Fine,
            Urgent,
            "居家养老护理员三天未上门，老人未正常进食",
        ),
    )
    .await?;
    summary.care_visits += 4;
    Ok(())
}
