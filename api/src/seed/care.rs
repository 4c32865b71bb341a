//! Demo people served (issue 21): the article's 许老伯, who lost his only child, and 戈老伯,
//! blind and living alone, on the register of 亭林 with the consents that allow it.

use chrono::{Duration, NaiveDate};
use entity::{
    account,
    care_consent::{ConsentGiver, ConsentMeans},
    care_recipient::AgeGroup,
};

use super::SeedSummary;
use crate::{
    AppState,
    care::register::{self, CareCategory, ConsentPurpose, Contact, NewConsent, Personal},
};

/// Register the demo people served at `station`.
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
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
    for (i, (name, age, categories, needs, by, consenter, means)) in people.into_iter().enumerate()
    {
        register::register(
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
                    purposes: vec![ConsentPurpose::Register, ConsentPurpose::CareVisits],
                    means,
                    given_on: today - Duration::days(20),
                },
            },
        )
        .await?;
        summary.people_registered += 1;
    }
    Ok(())
}
