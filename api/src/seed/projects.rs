//! Demo service projects and lists (issue 20 part 3): a government-purchased elderly-care
//! project run by the operator at 亭林 with deliverables and a mid-term review, a joint-venture
//! children's project started from a community need, the station's service list, and the
//! 城北 community's needs and resources — enough for `matchNeeds` to show 精准对接.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use entity::{
    account, charity_fund,
    community_resource::ResourceKind,
    project_deliverable::DeliverableStatus,
    project_review::{ReviewGrade, ReviewStage},
    service_project::{FundingSource, ServiceField},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{SeedSummary, city::create_org, data::DemoOrg};
use crate::{
    AppState,
    organizations::domain::OrganizationKind,
    projects::{lists, service as projects},
};

/// The third-party evaluator.
const EVALUATOR: DemoOrg = DemoOrg {
    name: "苏州市社会组织发展评估中心",
    region_code: "320500",
    address: "苏州市姑苏区三香路120号",
    latitude: 31.2960,
    longitude: 120.5990,
};

/// The evaluator's reviewer (评估专员): reviews are never written by those who run a project.
pub(super) const EVALUATOR_PHONE: &str = "13900000201";

/// Seed the projects, the service list, and the needs and resources of the first station's
/// line.
pub(super) async fn seed(
    state: &AppState,
    admin: &account::Model,
    city: i64,
    operator: i64,
    stations: &[i64],
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    let db = &state.db;
    let (Some(&tinglin), Some(&zhoushi)) = (stations.first(), stations.get(1)) else {
        return Ok(());
    };
    let evaluator = create_org(
        state,
        admin,
        OrganizationKind::SocialOrg,
        Some(city),
        &EVALUATOR,
    )
    .await?;
    summary.organizations += 1;
    let reviewer = super::city::register(state, EVALUATOR_PHONE, "钱评估").await?;
    summary.accounts += 1;
    crate::organizations::service::grant_membership(
        db,
        admin,
        evaluator,
        EVALUATOR_PHONE,
        crate::organizations::domain::MemberRole::Admin,
    )
    .await?;

    let starts = today - Duration::days(150);
    let elderly = projects::create(
        db,
        admin,
        projects::NewProject {
            organization: tinglin,
            operator: Some(operator),
            evaluator: Some(evaluator),
            title: "“银龄守护”独居老人关爱服务项目".into(),
            description: "政府购买服务：为亭林街道独居、空巢老人提供定期探访、助餐助浴和健康讲座，\
                          链接志愿者开展结对关爱。"
                .into(),
            field: ServiceField::ElderlyService,
            funding: FundingSource::GovernmentPurchase,
            budget_fen: 28_000_000,
            starts_on: starts,
            ends_on: starts + Duration::days(364),
            beneficiaries: "辖区独居、空巢及失独老人".into(),
            beneficiary_target: 150,
            deliverables: vec![
                projects::NewDeliverable {
                    title: "建立 150 名服务对象档案".into(),
                    due_on: starts + Duration::days(60),
                },
                projects::NewDeliverable {
                    title: "开展健康讲座 4 场".into(),
                    due_on: starts + Duration::days(120),
                },
                projects::NewDeliverable {
                    title: "完成 1200 人次入户探访".into(),
                    due_on: starts + Duration::days(300),
                },
                projects::NewDeliverable {
                    title: "提交结项报告".into(),
                    due_on: starts + Duration::days(364),
                },
            ],
            need: None,
        },
    )
    .await?;
    summary.service_projects += 1;
    let settled = projects::deliverables_of(db, &[elderly.id]).await?;
    for (d, note) in settled
        .iter()
        .take(2)
        .zip(["档案 152 份，已录入系统", "4 场讲座共 210 人次参加"])
    {
        projects::settle_deliverable(db, admin, d.id, DeliverableStatus::Met, Some(note.into()))
            .await?;
    }
    projects::review(
        db,
        &reviewer,
        projects::NewReview {
            project: elderly.id,
            stage: ReviewStage::MidTerm,
            grade: ReviewGrade::Good,
            comments: "档案建立规范，讲座覆盖面广；入户探访进度略慢，建议增加志愿者结对。".into(),
        },
    )
    .await?;
    // The station's community fund pays for the winter clothes under the project.
    if let Some(fund) = charity_fund::Entity::find()
        .filter(charity_fund::Column::OrganizationId.eq(tinglin))
        .one(db)
        .await?
    {
        projects::tag_fund(db, admin, fund.id, Some(elderly.id)).await?;
        let paid = crate::funds::service::disburse(
            db,
            admin,
            crate::funds::service::NewDisbursement {
                fund_id: fund.id,
                amount_fen: 20_000,
                purpose: "为独居老人购置防滑垫和夜灯".into(),
                project_ref: String::new(),
                project_id: None,
            },
            "seed-demo-project-disbursement-0",
        )
        .await;
        if let Err(e) = paid {
            tracing::warn!(error = %e, "the demo fund could not pay the project");
        }
    }

    for (title, field, description, schedule) in [
        (
            "长者助餐",
            ServiceField::ElderlyService,
            "社区长者食堂午餐，80 岁以上老人和低保老人享受补贴，行动不便者可送餐上门。",
            "每日 11:00–12:30",
        ),
        (
            "救助政策咨询",
            ServiceField::SocialAssistance,
            "低保、特困、临时救助的政策解读与申请协助。",
            "工作日 9:00–17:00",
        ),
        (
            "困境儿童课后陪伴",
            ServiceField::ChildrenInDifficulty,
            "社工和大学生志愿者为困境儿童提供作业辅导和心理陪伴。",
            "每周二、四 16:30–18:30",
        ),
        (
            "残疾人康复指导",
            ServiceField::DisabilityRehabilitation,
            "康复师上门评估，指导家庭康复训练，协助申请辅具。",
            "每月第一周周三",
        ),
    ] {
        lists::add_service(
            db,
            admin,
            lists::NewService {
                organization: tinglin,
                title: title.into(),
                field,
                description: description.into(),
                schedule: schedule.into(),
            },
        )
        .await?;
    }

    // The needs and resources of the station's line.
    let soon = Utc.from_utc_datetime(
        &(today + Duration::days(14))
            .and_hms_opt(1, 0, 0)
            .unwrap_or_default(),
    );
    let mut needs = Vec::new();
    for (title, field, skills, people) in [
        (
            "独居老人冬季助浴",
            ServiceField::ElderlyService,
            vec!["护理"],
            18,
        ),
        (
            "困境儿童暑期学业辅导",
            ServiceField::ChildrenInDifficulty,
            vec!["辅导"],
            12,
        ),
        (
            "老旧小区电动车充电棚选址协商",
            ServiceField::CommunityBuilding,
            vec![],
            300,
        ),
    ] {
        let n = lists::raise_need(
            db,
            admin,
            lists::NewNeed {
                organization: tinglin,
                title: title.into(),
                description: String::new(),
                field,
                skills: skills.into_iter().map(str::to_owned).collect(),
                location: None,
                needed_from: Some(soon),
                needed_until: Some(soon + Duration::days(60)),
                people,
            },
        )
        .await?;
        summary.community_needs += 1;
        needs.push(n);
    }
    for (kind, name, fields, skills, capacity) in [
        (
            ResourceKind::Person,
            "退休护士志愿服务队",
            vec![
                ServiceField::ElderlyService,
                ServiceField::DisabilityRehabilitation,
            ],
            vec!["护理", "急救"],
            Some(8),
        ),
        (
            ResourceKind::Venue,
            "城北社区党群服务中心活动室",
            vec![
                ServiceField::CommunityBuilding,
                ServiceField::ElderlyService,
            ],
            vec![],
            Some(60),
        ),
        (
            ResourceKind::Skill,
            "昆山杜克大学学生支教队",
            vec![ServiceField::ChildrenInDifficulty],
            vec!["辅导"],
            Some(15),
        ),
    ] {
        lists::add_resource(
            db,
            admin,
            lists::NewResource {
                organization: tinglin,
                kind,
                name: name.into(),
                description: String::new(),
                fields,
                skills: skills.into_iter().map(str::to_owned).collect(),
                location: None,
                available_from: None,
                available_until: None,
                capacity,
                contact: None,
                account: None,
                fund: None,
            },
        )
        .await?;
        summary.community_resources += 1;
    }

    // The children's need became a joint-venture project of the station.
    let children_start = today - Duration::days(10);
    projects::create(
        db,
        admin,
        projects::NewProject {
            organization: tinglin,
            operator: Some(operator),
            evaluator: Some(evaluator),
            title: "“彩虹桥”困境儿童成长陪伴计划".into(),
            description:
                "联合创投项目：大学生志愿者与社工结对陪伴困境儿童，开展学业辅导和心理支持。".into(),
            field: ServiceField::ChildrenInDifficulty,
            funding: FundingSource::JointVenture,
            budget_fen: 8_000_000,
            starts_on: children_start,
            ends_on: children_start + Duration::days(180),
            beneficiaries: "辖区困境儿童及留守儿童".into(),
            beneficiary_target: 40,
            deliverables: vec![projects::NewDeliverable {
                title: "完成 40 名儿童需求评估".into(),
                due_on: children_start + Duration::days(45),
            }],
            need: needs.get(1).map(|n| n.id),
        },
    )
    .await?;
    summary.service_projects += 1;
    // 周市 runs a welfare-lottery project of its own.
    projects::create(
        db,
        admin,
        projects::NewProject {
            organization: zhoushi,
            operator: Some(operator),
            evaluator: Some(evaluator),
            title: "“助残同行”居家康复服务".into(),
            description: "福彩公益金资助：为重度残疾人提供居家康复评估与训练指导。".into(),
            field: ServiceField::DisabilityRehabilitation,
            funding: FundingSource::WelfareLottery,
            budget_fen: 12_000_000,
            starts_on: starts,
            ends_on: starts + Duration::days(364),
            beneficiaries: "辖区重度残疾人".into(),
            beneficiary_target: 35,
            deliverables: Vec::new(),
            need: None,
        },
    )
    .await?;
    summary.service_projects += 1;
    Ok(())
}
