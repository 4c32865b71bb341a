//! A small demo city for trying the API right away (`tongxing seed-demo`): the Suzhou
//! hierarchy down to two social-work rooms, a published campaign, a dozen published events with
//! shifts (one of them a weekly series), organizers and volunteers with a few sign-ups.
//!
//! Everything goes through the service functions, as the API would do it, so every rule
//! (hierarchy, authority, windows, skills, capacity, waitlist) applies to the demo data too.
//! It only fills an empty database: with any organization present it refuses, so demo data is
//! never mixed into real data.
//!
//! Every demo account's password is [`DEMO_PASSWORD`]: the system administrator is 13900000000,
//! the organizers 13900000001 (the Kunshan stations) and 13900000002 (the Wujiang stations),
//! and the volunteers 13800000001 to 13800000005.

use std::fmt;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::{account, organization};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{
    AppState,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service::{self as accounts, CreateAdminOutcome},
    },
    campaigns::service::{self as campaigns, CampaignStatus, NewCampaign},
    clock::city_offset,
    events::{
        domain::{EventCategory, EventStatus},
        service::{self as events, NewEvent},
    },
    geo::GeoPoint,
    organizations::{
        domain::{MemberRole, OrganizationKind},
        service::{self as organizations, NewOrganization},
    },
    profiles::service::{self as profiles, ProfileChanges},
    shifts::{
        series::{self, Frequency, Recurrence},
        service::{self as shifts, DEFAULT_CHECK_IN_RADIUS_M, ShiftSpec},
    },
    signups::service::{self as signups, SignupStatus},
    validate,
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "tongxing-demo";

/// What [`seed_demo`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    /// Organizations (city center, district centers, stations, rooms, charity).
    pub organizations: usize,
    /// Accounts (administrator, organizers, volunteers).
    pub accounts: usize,
    /// Campaigns.
    pub campaigns: usize,
    /// Published events.
    pub events: usize,
    /// Shifts, including those of the recurring series.
    pub shifts: usize,
    /// Sign-ups that hold a place.
    pub signups_confirmed: usize,
    /// Sign-ups on a waitlist.
    pub signups_waitlisted: usize,
    /// Community charity funds.
    pub funds: usize,
    /// Donations (to funds and the campaign).
    pub donations: usize,
    /// Micro-wishes.
    pub wishes: usize,
    /// Help requests.
    pub help_requests: usize,
}

impl fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} organizations, {} accounts, {} campaign(s), {} events, {} shifts, \
             {} confirmed and {} waitlisted sign-ups, {} fund(s) with {} donations, \
             {} micro-wishes, {} help requests",
            self.organizations,
            self.accounts,
            self.campaigns,
            self.events,
            self.shifts,
            self.signups_confirmed,
            self.signups_waitlisted,
            self.funds,
            self.donations,
            self.wishes,
            self.help_requests
        )
    }
}

const ADMIN_PHONE: &str = "13900000000";
const ADMIN_NAME: &str = "演示管理员";

/// An organizer and the stations (indexes into [`STATIONS`]) they organize.
struct DemoOrganizer {
    phone: &'static str,
    name: &'static str,
    stations: &'static [usize],
}

const ORGANIZERS: [DemoOrganizer; 2] = [
    DemoOrganizer {
        phone: "13900000001",
        name: "顾晓燕",
        stations: &[0, 1],
    },
    DemoOrganizer {
        phone: "13900000002",
        name: "沈建国",
        stations: &[2, 3],
    },
];

/// An organization of the demo hierarchy.
struct DemoOrg {
    name: &'static str,
    region_code: &'static str,
    address: &'static str,
    latitude: f64,
    longitude: f64,
}

const CITY: DemoOrg = DemoOrg {
    name: "苏州市社会工作指导中心",
    region_code: "320500",
    address: "苏州市姑苏区三香路120号",
    latitude: 31.2990,
    longitude: 120.5853,
};

const DISTRICTS: [DemoOrg; 2] = [
    DemoOrg {
        name: "昆山市社会工作指导中心",
        region_code: "320583",
        address: "昆山市玉山镇前进西路1801号",
        latitude: 31.3869,
        longitude: 120.9532,
    },
    DemoOrg {
        name: "吴江区社会工作指导中心",
        region_code: "320509",
        address: "苏州市吴江区中山南路1979号",
        latitude: 31.1600,
        longitude: 120.6440,
    },
];

/// Stations with the index of their district in [`DISTRICTS`].
const STATIONS: [(usize, DemoOrg); 4] = [
    (
        0,
        DemoOrg {
            name: "亭林社工站",
            region_code: "320583001",
            address: "昆山市亭林街道人民路218号",
            latitude: 31.3812,
            longitude: 120.9786,
        },
    ),
    (
        0,
        DemoOrg {
            name: "周市社工站",
            region_code: "320583102",
            address: "昆山市周市镇黄浦江北路16号",
            latitude: 31.4559,
            longitude: 120.9924,
        },
    ),
    (
        1,
        DemoOrg {
            name: "松陵社工站",
            region_code: "320509001",
            address: "苏州市吴江区松陵街道笠泽路55号",
            latitude: 31.1655,
            longitude: 120.6395,
        },
    ),
    (
        1,
        DemoOrg {
            name: "盛泽社工站",
            region_code: "320509102",
            address: "苏州市吴江区盛泽镇舜湖西路88号",
            latitude: 30.9177,
            longitude: 120.6536,
        },
    ),
];

/// Rooms with the index of their station in [`STATIONS`].
const ROOMS: [(usize, DemoOrg); 2] = [
    (
        0,
        DemoOrg {
            name: "城北社区社工室",
            region_code: "320583001003",
            address: "昆山市亭林街道城北社区服务中心",
            latitude: 31.3901,
            longitude: 120.9712,
        },
    ),
    (
        3,
        DemoOrg {
            name: "舜湖社区社工室",
            region_code: "320509102005",
            address: "苏州市吴江区盛泽镇舜湖社区党群服务中心",
            latitude: 30.9208,
            longitude: 120.6480,
        },
    ),
];

const CHARITY: DemoOrg = DemoOrg {
    name: "苏州同行公益基金会",
    region_code: "320508",
    address: "苏州市姑苏区人民路1500号",
    latitude: 31.3070,
    longitude: 120.6110,
};

/// A shift of a demo event: minutes after the event's start, length in minutes.
struct DemoShift {
    title: &'static str,
    description: &'static str,
    offset_minutes: i64,
    minutes: i64,
    capacity: i32,
    waitlist: bool,
    skills: &'static [&'static str],
}

/// A demo event: `days` after today (city time), starting at `hour:minute` city time.
struct DemoEvent {
    station: usize,
    title: &'static str,
    description: &'static str,
    category: EventCategory,
    address: &'static str,
    latitude: f64,
    longitude: f64,
    days: u64,
    hour: u32,
    minute: u32,
    minutes: i64,
    in_campaign: bool,
    shifts: &'static [DemoShift],
}

const EVENTS: [DemoEvent; 11] = [
    // 0
    DemoEvent {
        station: 0,
        title: "长者食堂敬老助餐",
        description: "为城北社区独居和高龄老人备餐、分餐，并为行动不便的老人送餐上门。",
        category: EventCategory::ElderlyCare,
        address: "昆山市亭林街道城北社区长者食堂",
        latitude: 31.3895,
        longitude: 120.9721,
        days: 1,
        hour: 10,
        minute: 30,
        minutes: 180,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "备餐与分餐",
                description: "协助厨房备餐，按份分装，引导老人就座。",
                offset_minutes: 0,
                minutes: 90,
                capacity: 8,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "送餐上门",
                description: "驾车把午餐送到行动不便的老人家中，需要驾驶技能。",
                offset_minutes: 60,
                minutes: 120,
                capacity: 4,
                waitlist: true,
                skills: &["driving"],
            },
        ],
    },
    // 1
    DemoEvent {
        station: 0,
        title: "社区急救知识普及课",
        description: "向居民讲解心肺复苏和AED使用，志愿者担任助教并维持现场秩序。",
        category: EventCategory::Health,
        address: "昆山市亭林街道市民活动中心二楼",
        latitude: 31.3768,
        longitude: 120.9855,
        days: 3,
        hour: 14,
        minute: 0,
        minutes: 180,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "急救演示助教",
                description: "在每个练习小组示范胸外按压并纠正动作，需要急救技能。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 5,
                waitlist: true,
                skills: &["急救"],
            },
            DemoShift {
                title: "签到引导",
                description: "签到、发放资料、引导居民入座。",
                offset_minutes: 0,
                minutes: 120,
                capacity: 10,
                waitlist: true,
                skills: &[],
            },
        ],
    },
    // 2
    DemoEvent {
        station: 1,
        title: "青阳港河道清洁行动",
        description: "沿青阳港步道拾捡垃圾、清理岸边漂浮物，倡导爱护水环境。",
        category: EventCategory::Environment,
        address: "昆山市周市镇青阳港滨河步道北入口",
        latitude: 31.4605,
        longitude: 120.9988,
        days: 5,
        hour: 8,
        minute: 30,
        minutes: 180,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "岸线清洁",
                description: "分组沿步道清理垃圾，工具现场发放。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 30,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "物资保障",
                description: "分发手套、垃圾袋和饮用水，统计清理量。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 5,
                waitlist: false,
                skills: &[],
            },
        ],
    },
    // 3
    DemoEvent {
        station: 1,
        title: "垃圾分类入户宣传",
        description: "走访市北社区住户，讲解垃圾分类标准，发放分类指南。",
        category: EventCategory::CommunityGovernance,
        address: "昆山市周市镇市北社区居委会",
        latitude: 31.4521,
        longitude: 120.9874,
        days: 6,
        hour: 9,
        minute: 0,
        minutes: 180,
        in_campaign: false,
        shifts: &[DemoShift {
            title: "入户宣传",
            description: "两人一组入户讲解，记录居民意见。",
            offset_minutes: 0,
            minutes: 180,
            capacity: 12,
            waitlist: true,
            skills: &[],
        }],
    },
    // 4
    DemoEvent {
        station: 1,
        title: "困境儿童课业辅导",
        description: "为社区困境儿童提供一对一的作业辅导和阅读陪伴。",
        category: EventCategory::Education,
        address: "昆山市周市镇新镇社区图书室",
        latitude: 31.4490,
        longitude: 120.9960,
        days: 8,
        hour: 14,
        minute: 0,
        minutes: 150,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "数学辅导",
                description: "小学三至六年级数学作业辅导。",
                offset_minutes: 0,
                minutes: 150,
                capacity: 4,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "阅读陪伴",
                description: "陪低年级孩子读绘本、讲故事。",
                offset_minutes: 0,
                minutes: 150,
                capacity: 4,
                waitlist: true,
                skills: &[],
            },
        ],
    },
    // 5
    DemoEvent {
        station: 2,
        title: "独居老人探访",
        description: "探访流虹社区独居老人，了解生活需求，检查家中用电和燃气安全。",
        category: EventCategory::ElderlyCare,
        address: "苏州市吴江区松陵街道流虹社区",
        latitude: 31.1582,
        longitude: 120.6461,
        days: 4,
        hour: 9,
        minute: 0,
        minutes: 180,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "入户探访",
                description: "与社工一起入户，陪老人聊天并记录需求。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 10,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "电话回访",
                description: "在社工站给上月探访过的老人打电话回访。",
                offset_minutes: 0,
                minutes: 120,
                capacity: 3,
                waitlist: true,
                skills: &[],
            },
        ],
    },
    // 6
    DemoEvent {
        station: 2,
        title: "鲈乡广场社区义诊",
        description: "联合区医院开展义诊，测量血压血糖，普及慢病管理知识。",
        category: EventCategory::Health,
        address: "苏州市吴江区松陵街道鲈乡广场",
        latitude: 31.1631,
        longitude: 120.6388,
        days: 7,
        hour: 8,
        minute: 0,
        minutes: 240,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "义诊秩序维护",
                description: "排队引导、登记信息、维持现场秩序。",
                offset_minutes: 0,
                minutes: 240,
                capacity: 15,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "血压测量",
                description: "协助医生测量血压并登记，需要急救技能。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 6,
                waitlist: true,
                skills: &["急救"],
            },
            DemoShift {
                title: "接送行动不便老人",
                description: "驾车接送行动不便的老人往返义诊现场，需要驾驶技能。",
                offset_minutes: 0,
                minutes: 240,
                capacity: 3,
                waitlist: false,
                skills: &["driving"],
            },
        ],
    },
    // 7
    DemoEvent {
        station: 2,
        title: "东太湖岸线净滩",
        description: "清理东太湖生态园湖岸的塑料垃圾，记录垃圾种类。",
        category: EventCategory::Environment,
        address: "苏州市吴江区东太湖生态园南门",
        latitude: 31.1795,
        longitude: 120.6202,
        days: 10,
        hour: 8,
        minute: 30,
        minutes: 180,
        in_campaign: true,
        shifts: &[DemoShift {
            title: "湖岸清洁",
            description: "分组清理湖岸，垃圾分类装袋。",
            offset_minutes: 0,
            minutes: 180,
            capacity: 30,
            waitlist: true,
            skills: &[],
        }],
    },
    // 8
    DemoEvent {
        station: 3,
        title: "丝绸文化小讲解员培训",
        description: "带领社区孩子参观先蚕祠，学习盛泽丝绸历史，练习讲解。",
        category: EventCategory::Children,
        address: "苏州市吴江区盛泽镇先蚕祠",
        latitude: 30.9149,
        longitude: 120.6552,
        days: 9,
        hour: 14,
        minute: 0,
        minutes: 150,
        in_campaign: true,
        shifts: &[DemoShift {
            title: "儿童陪同",
            description: "陪同孩子参观，照看安全，协助讲解练习。",
            offset_minutes: 0,
            minutes: 150,
            capacity: 10,
            waitlist: true,
            skills: &[],
        }],
    },
    // 9
    DemoEvent {
        station: 3,
        title: "舜湖社区议事会",
        description: "社区居民议事会讨论加装电梯和停车管理，志愿者负责记录和摄影。",
        category: EventCategory::CommunityGovernance,
        address: "苏州市吴江区盛泽镇舜湖社区党群服务中心",
        latitude: 30.9208,
        longitude: 120.6480,
        days: 12,
        hour: 19,
        minute: 0,
        minutes: 120,
        in_campaign: false,
        shifts: &[DemoShift {
            title: "会议记录与摄影",
            description: "记录议事要点并拍照存档。",
            offset_minutes: 0,
            minutes: 120,
            capacity: 3,
            waitlist: false,
            skills: &[],
        }],
    },
    // 10
    DemoEvent {
        station: 3,
        title: "防汛应急物资整理",
        description: "汛期前清点、整理和转运应急物资，检查救生器材。",
        category: EventCategory::Emergency,
        address: "苏州市吴江区盛泽镇应急物资储备站",
        latitude: 30.9102,
        longitude: 120.6611,
        days: 14,
        hour: 9,
        minute: 0,
        minutes: 180,
        in_campaign: true,
        shifts: &[
            DemoShift {
                title: "物资清点",
                description: "清点编号、检查有效期、整理上架。",
                offset_minutes: 0,
                minutes: 180,
                capacity: 20,
                waitlist: true,
                skills: &[],
            },
            DemoShift {
                title: "物资转运",
                description: "驾车把物资运往各村社区储备点，需要驾驶技能。",
                offset_minutes: 60,
                minutes: 120,
                capacity: 4,
                waitlist: true,
                skills: &["driving"],
            },
        ],
    },
];

/// Occurrences of the Tinglin station's weekly after-school class (a recurring series).
const SERIES_WEEKS: u32 = 4;

/// A demo volunteer.
struct DemoVolunteer {
    phone: &'static str,
    name: &'static str,
    skills: &'static [&'static str],
    bio: &'static str,
    latitude: f64,
    longitude: f64,
}

const VOLUNTEERS: [DemoVolunteer; 5] = [
    DemoVolunteer {
        phone: "13800000001",
        name: "陈思远",
        skills: &["急救", "driving"],
        bio: "红十字会救护员，周末有空，有车。",
        latitude: 31.3850,
        longitude: 120.9700,
    },
    DemoVolunteer {
        phone: "13800000002",
        name: "王雨桐",
        skills: &["teaching"],
        bio: "师范大学在读，喜欢和孩子们在一起。",
        latitude: 31.4530,
        longitude: 120.9900,
    },
    DemoVolunteer {
        phone: "13800000003",
        name: "李建华",
        skills: &["急救"],
        bio: "退休社区医生。",
        latitude: 31.1620,
        longitude: 120.6420,
    },
    DemoVolunteer {
        phone: "13800000004",
        name: "张敏",
        skills: &["摄影"],
        bio: "业余摄影爱好者，住在盛泽。",
        latitude: 30.9190,
        longitude: 120.6500,
    },
    DemoVolunteer {
        phone: "13800000005",
        name: "刘洋",
        skills: &[],
        bio: "",
        latitude: 31.3790,
        longitude: 120.9820,
    },
];

/// Where a demo sign-up goes.
enum Target {
    /// (event index in [`EVENTS`], shift index in that event).
    Event(usize, usize),
    /// Occurrence index in the weekly series.
    Series(usize),
}

/// Sign-ups, in order: (volunteer index in [`VOLUNTEERS`], target). The fourth sign-up for the
/// three places of the phone follow-up lands on its waitlist.
const SIGNUPS: [(usize, Target); 13] = [
    (0, Target::Event(0, 1)),
    (4, Target::Event(0, 0)),
    (0, Target::Series(0)),
    (0, Target::Event(1, 0)),
    (4, Target::Event(1, 1)),
    (2, Target::Event(5, 1)),
    (3, Target::Event(5, 1)),
    (1, Target::Event(5, 1)),
    (4, Target::Event(5, 1)),
    (1, Target::Event(2, 0)),
    (1, Target::Event(4, 0)),
    (2, Target::Event(6, 1)),
    (3, Target::Event(9, 0)),
];

fn phone(raw: &str) -> anyhow::Result<Phone> {
    Ok(Phone::parse(raw, "phone")?)
}

fn password() -> anyhow::Result<Password> {
    Ok(Password::parse(DEMO_PASSWORD, "password")?)
}

fn display_name(raw: &str) -> anyhow::Result<DisplayName> {
    Ok(DisplayName::parse(raw, "displayName")?)
}

/// `days` after `today` at `hour:minute`, city time.
fn city_time(today: NaiveDate, days: u64, hour: u32, minute: u32) -> anyhow::Result<DateTime<Utc>> {
    let naive = (today + chrono::Days::new(days))
        .and_hms_opt(hour, minute, 0)
        .context("a time of day")?;
    Ok(city_offset()
        .from_local_datetime(&naive)
        .single()
        .context("a city time")?
        .with_timezone(&Utc))
}

fn shift_spec(
    title: &str,
    description: &str,
    starts_at: DateTime<Utc>,
    minutes: i64,
    capacity: i32,
    waitlist: bool,
    skills: &[&str],
) -> anyhow::Result<ShiftSpec> {
    let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
    Ok(ShiftSpec {
        title: validate::title(title, "shift.title", 100)?,
        description: validate::text(description, "shift.description", 5_000)?,
        starts_at,
        ends_at: starts_at + Duration::minutes(minutes),
        capacity,
        waitlist_enabled: waitlist,
        required_skills: validate::skills(&skills, "shift.requiredSkills")?,
        check_in_radius_meters: DEFAULT_CHECK_IN_RADIUS_M,
    })
}

/// The phones of every demo account.
fn demo_phones() -> Vec<&'static str> {
    std::iter::once(ADMIN_PHONE)
        .chain(ORGANIZERS.iter().map(|o| o.phone))
        .chain(VOLUNTEERS.iter().map(|v| v.phone))
        .collect()
}

/// Create an organization as `admin`, with the same checks as `createOrganization`.
async fn create_org(
    state: &AppState,
    admin: &account::Model,
    kind: OrganizationKind,
    parent_id: Option<i64>,
    org: &DemoOrg,
) -> anyhow::Result<i64> {
    let new = NewOrganization {
        name: organizations::parse_name(org.name, "name")?,
        kind,
        parent_id,
        region_code: Some(organizations::parse_region_code(
            org.region_code,
            "regionCode",
        )?),
        address: Some(organizations::parse_address(org.address, "address")?),
        latitude: Some(org.latitude),
        longitude: Some(org.longitude),
    };
    let created = organizations::create(&state.db, admin, new)
        .await
        .with_context(|| format!("creating the organization {}", org.name))?;
    Ok(created.id)
}

/// Register a demo account (as `register` would) and end the session that registering opens.
async fn register(state: &AppState, raw_phone: &str, name: &str) -> anyhow::Result<account::Model> {
    let session = accounts::register(
        state,
        phone(raw_phone)?,
        password()?,
        display_name(name)?,
        None,
    )
    .await
    .with_context(|| format!("registering the demo account {name}"))?;
    accounts::logout(state, &session.refresh_token).await?;
    Ok(session.account)
}

/// Fill an empty database with a small demo city. Refuses when any organization exists (or any
/// demo phone number is already registered), so demo data never mixes with real data.
///
/// The steps are separate service calls, not one transaction: if one fails half-way, the
/// database holds part of the city and a second run refuses; start again from an empty
/// database.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<SeedSummary> {
    let db = &state.db;
    if organization::Entity::find().one(db).await?.is_some() {
        bail!(
            "the database already has organizations; seed-demo only fills an empty database, \
             so demo data never mixes with real data"
        );
    }
    let taken = account::Entity::find()
        .filter(account::Column::Phone.is_in(demo_phones()))
        .count(db)
        .await?;
    if taken > 0 {
        bail!(
            "{taken} of the demo accounts' phone numbers are already registered; seed-demo only \
             fills an empty database"
        );
    }
    let mut summary = SeedSummary::default();

    // The system administrator builds the hierarchy.
    let admin_id = match accounts::create_admin(
        state,
        phone(ADMIN_PHONE)?,
        password()?,
        display_name(ADMIN_NAME)?,
    )
    .await
    .context("creating the demo administrator")?
    {
        CreateAdminOutcome::Created(id) | CreateAdminOutcome::AlreadyExisted(id) => id,
    };
    let admin = accounts::get(db, admin_id)
        .await?
        .context("the demo administrator vanished")?;
    summary.accounts += 1;

    let city = create_org(state, &admin, OrganizationKind::CityCenter, None, &CITY).await?;
    let mut districts = Vec::new();
    for d in &DISTRICTS {
        districts.push(
            create_org(
                state,
                &admin,
                OrganizationKind::DistrictCenter,
                Some(city),
                d,
            )
            .await?,
        );
    }
    let mut stations = Vec::new();
    for (district, s) in &STATIONS {
        stations.push(
            create_org(
                state,
                &admin,
                OrganizationKind::Station,
                Some(districts[*district]),
                s,
            )
            .await?,
        );
    }
    for (station, r) in &ROOMS {
        create_org(
            state,
            &admin,
            OrganizationKind::Room,
            Some(stations[*station]),
            r,
        )
        .await?;
    }
    create_org(
        state,
        &admin,
        OrganizationKind::Charity,
        Some(city),
        &CHARITY,
    )
    .await?;
    summary.organizations = 1 + DISTRICTS.len() + STATIONS.len() + ROOMS.len() + 1;

    // Organizers of the stations.
    let mut organizer_of = vec![admin.clone(); STATIONS.len()];
    for o in &ORGANIZERS {
        let acc = register(state, o.phone, o.name).await?;
        summary.accounts += 1;
        for &s in o.stations {
            organizations::add_member(db, &admin, stations[s], o.phone, MemberRole::Organizer)
                .await
                .context("adding a demo organizer")?;
            organizer_of[s] = acc.clone();
        }
    }

    // The city's campaign, running from a week ago for three months.
    let now = Utc::now();
    let campaign = campaigns::create(
        db,
        &admin,
        NewCampaign {
            organization_id: city,
            title: validate::title("慈善同心·志愿同行", "title", 100)?,
            description: validate::text(
                "苏州市“五社联动”年度志愿服务与慈善募集行动：全市社工站、社工室、社会组织和慈善力量一起，\
                 为老人、儿童和困难家庭提供志愿服务。目标五千志愿服务小时、五十万元善款。",
                "description",
                10_000,
            )?,
            starts_at: now - Duration::days(7),
            ends_at: now + Duration::days(90),
            volunteer_hours_goal: Some(5_000),
            fundraising_goal_fen: Some(50_000_000),
            cover_image_url: None,
        },
    )
    .await
    .context("creating the demo campaign")?;
    campaigns::transition(
        db,
        &admin,
        campaign.id,
        &[CampaignStatus::Draft],
        CampaignStatus::Published,
    )
    .await
    .context("publishing the demo campaign")?;
    summary.campaigns = 1;

    // Events with their shifts, created as drafts by the station's organizer, then published.
    let today = now.with_timezone(&city_offset()).date_naive();
    let mut event_shifts: Vec<Vec<i64>> = Vec::new();
    for e in &EVENTS {
        let organizer = &organizer_of[e.station];
        let starts_at = city_time(today, e.days, e.hour, e.minute)?;
        let created = events::create(
            db,
            organizer,
            NewEvent {
                organization_id: stations[e.station],
                campaign_id: e.in_campaign.then_some(campaign.id),
                title: validate::title(e.title, "title", 100)?,
                description: validate::text(e.description, "description", 10_000)?,
                category: e.category,
                address: validate::title(e.address, "address", 256)?,
                location: GeoPoint::new(e.latitude, e.longitude, "location")?,
                starts_at,
                ends_at: starts_at + Duration::minutes(e.minutes),
                auto_approve_verified: false,
            },
        )
        .await
        .with_context(|| format!("creating the demo event {}", e.title))?;
        let mut ids = Vec::new();
        for s in e.shifts {
            let spec = shift_spec(
                s.title,
                s.description,
                starts_at + Duration::minutes(s.offset_minutes),
                s.minutes,
                s.capacity,
                s.waitlist,
                s.skills,
            )?;
            let shift = shifts::create(db, organizer, created.id, spec)
                .await
                .with_context(|| format!("creating a shift of {}", e.title))?;
            ids.push(shift.id);
        }
        events::transition(
            db,
            organizer,
            created.id,
            &[EventStatus::Draft],
            EventStatus::Published,
        )
        .await
        .with_context(|| format!("publishing the demo event {}", e.title))?;
        summary.events += 1;
        summary.shifts += ids.len();
        event_shifts.push(ids);
    }

    // A weekly after-school class in the Tinglin station: one event spanning four weeks, one
    // shift a week from a recurring series.
    let series_shifts = {
        let organizer = &organizer_of[0];
        let first = city_time(today, 2, 16, 30)?;
        let starts_at = first - Duration::minutes(30);
        let ends_at = first + Duration::weeks(i64::from(SERIES_WEEKS) - 1) + Duration::hours(2);
        let e = events::create(
            db,
            organizer,
            NewEvent {
                organization_id: stations[0],
                campaign_id: Some(campaign.id),
                title: validate::title("四点半课堂", "title", 100)?,
                description: validate::text(
                    "每周一次，放学后在城北社区陪伴双职工家庭的孩子写作业、做手工。",
                    "description",
                    10_000,
                )?,
                category: EventCategory::Children,
                address: validate::title("昆山市亭林街道城北社区服务中心三楼", "address", 256)?,
                location: GeoPoint::new(31.3901, 120.9712, "location")?,
                starts_at,
                ends_at,
                auto_approve_verified: true,
            },
        )
        .await
        .context("creating the demo weekly event")?;
        let template = shift_spec(
            "作业陪伴",
            "陪孩子完成作业，组织手工和阅读活动。",
            first,
            90,
            6,
            true,
            &[],
        )?;
        let rule = Recurrence {
            frequency: Frequency::Weekly,
            by_weekday: Vec::new(),
            until: None,
            count: Some(SERIES_WEEKS),
        };
        let created = series::create_series(db, organizer, e.id, template, rule)
            .await
            .context("creating the demo weekly series")?;
        events::transition(
            db,
            organizer,
            e.id,
            &[EventStatus::Draft],
            EventStatus::Published,
        )
        .await
        .context("publishing the demo weekly event")?;
        summary.events += 1;
        summary.shifts += created.len();
        created.into_iter().map(|s| s.id).collect::<Vec<i64>>()
    };

    // Volunteers with profiles.
    let mut volunteers = Vec::new();
    for v in &VOLUNTEERS {
        let acc = register(state, v.phone, v.name).await?;
        let skills: Vec<String> = v.skills.iter().map(|s| (*s).to_owned()).collect();
        profiles::update(
            db,
            acc.id,
            ProfileChanges {
                skills: Some(validate::skills(&skills, "skills")?),
                bio: Some(validate::text(v.bio, "bio", 1_000)?),
                home: Some(GeoPoint::new(v.latitude, v.longitude, "homeLocation")?),
                available_for_dispatch: Some(true),
            },
        )
        .await
        .context("filling a demo volunteer profile")?;
        summary.accounts += 1;
        volunteers.push(acc);
    }

    // A few sign-ups, each with its own idempotency key.
    for (n, (volunteer, target)) in SIGNUPS.iter().enumerate() {
        let shift_id = match target {
            Target::Event(e, s) => event_shifts[*e][*s],
            Target::Series(i) => series_shifts[*i],
        };
        let key = format!("seed-demo-signup-{n}");
        let row = signups::sign_up(db, &volunteers[*volunteer], shift_id, &key)
            .await
            .context("signing up a demo volunteer")?;
        match SignupStatus::from_db(&row.status) {
            Some(SignupStatus::Confirmed) => summary.signups_confirmed += 1,
            Some(SignupStatus::Waitlisted) => summary.signups_waitlisted += 1,
            _ => {}
        }
    }

    seed_charity(
        state,
        &organizer_of[0],
        stations[0],
        campaign.id,
        &volunteers,
        &mut summary,
    )
    .await?;

    tracing::info!(
        organizations = summary.organizations,
        accounts = summary.accounts,
        campaigns = summary.campaigns,
        events = summary.events,
        shifts = summary.shifts,
        signups_confirmed = summary.signups_confirmed,
        signups_waitlisted = summary.signups_waitlisted,
        funds = summary.funds,
        donations = summary.donations,
        wishes = summary.wishes,
        help_requests = summary.help_requests,
        "demo city seeded"
    );
    Ok(summary)
}

/// The Tinglin station's charity side: a community fund with donations (one anonymous) and a
/// disbursement, a donation to the campaign, two micro-wishes (one claimed), and two help
/// requests — one waiting to be dispatched, one offered to the nearest volunteers.
async fn seed_charity(
    state: &AppState,
    organizer: &account::Model,
    station: i64,
    campaign: i64,
    volunteers: &[account::Model],
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    use crate::{
        funds::service::{self as funds, DonationTarget, NewDisbursement, NewDonation, NewFund},
        help::service::{self as help, NewHelpRequest, Urgency},
        wishes::service::{self as wishes, NewWish},
    };
    let db = &state.db;
    let fund = funds::create_fund(
        db,
        organizer,
        NewFund {
            organization_id: station,
            name: validate::title("亭林社区慈善基金", "name", 100)?,
            purpose: validate::text("助老助困、四点半课堂和社区微心愿。", "purpose", 2_000)?,
        },
    )
    .await
    .context("opening the demo fund")?;
    summary.funds += 1;
    let gifts: [(usize, DonationTarget, i64, bool, &str); 4] = [
        (
            0,
            DonationTarget::Fund(fund.id),
            50_000,
            false,
            "给社区老人添件冬衣",
        ),
        (1, DonationTarget::Fund(fund.id), 20_000, true, ""),
        (
            2,
            DonationTarget::Fund(fund.id),
            8_800,
            false,
            "四点半课堂加油",
        ),
        (
            3,
            DonationTarget::Campaign(campaign),
            100_000,
            false,
            "慈善同心，志愿同行",
        ),
    ];
    for (n, (who, target, amount_fen, anonymous, message)) in gifts.into_iter().enumerate() {
        funds::donate(
            db,
            &volunteers[who],
            NewDonation {
                target,
                amount_fen,
                donor_name: None,
                anonymous,
                message: message.to_owned(),
            },
            &format!("seed-demo-donation-{n}"),
        )
        .await
        .context("making a demo donation")?;
        summary.donations += 1;
    }
    funds::disburse(
        db,
        organizer,
        NewDisbursement {
            fund_id: fund.id,
            amount_fen: 30_000,
            purpose: "为12位独居老人购买冬衣".to_owned(),
            project_ref: "TL-2026-WINTER".to_owned(),
        },
        "seed-demo-disbursement-0",
    )
    .await
    .context("making a demo disbursement")?;

    for (title, story, budget_fen, alias) in [
        (
            "一台收音机",
            "独居的张奶奶爱听锡剧，旧收音机坏了。",
            15_000,
            "张奶奶",
        ),
        (
            "一套课外书",
            "小学三年级的小宇想读《十万个为什么》。",
            9_900,
            "小宇",
        ),
    ] {
        let w = wishes::post(
            db,
            organizer,
            NewWish {
                organization_id: station,
                title: title.to_owned(),
                story: story.to_owned(),
                budget_fen,
                beneficiary_alias: alias.to_owned(),
            },
        )
        .await
        .context("posting a demo micro-wish")?;
        if alias == "小宇" {
            let hold = Duration::hours(i64::from(state.config.wish_claim_hours));
            wishes::claim(db, &volunteers[1], w.id, hold)
                .await
                .context("claiming a demo micro-wish")?;
        }
        summary.wishes += 1;
    }

    for (n, (title, details, skills, lat, lng)) in [
        (
            "独居老人需要陪同就医",
            "李爷爷，81岁，城北社区5栋301，家属电话138****2231，周四上午去市第一人民医院复诊。",
            &["driving"][..],
            31.3862,
            120.9731,
        ),
        (
            "台风前帮忙加固阳台花架",
            "周阿姨家，城北社区2栋102，独居，需要两个人。",
            &[][..],
            31.3880,
            120.9690,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
        let r = help::create(
            db,
            organizer,
            NewHelpRequest {
                organization_id: station,
                title: validate::title(title, "title", 100)?,
                details: validate::text(details, "details", 2_000)?,
                category: EventCategory::ElderlyCare,
                urgency: if n == 0 {
                    Urgency::High
                } else {
                    Urgency::Normal
                },
                location: GeoPoint::new(lat, lng, "location")?,
                needed_skills: validate::skills(&skills, "neededSkills")?,
                needed_by: Some(Utc::now() + Duration::days(2)),
                via_client: None,
            },
        )
        .await
        .context("reporting a demo help request")?;
        if n == 0 {
            let nearest = help::nearby_volunteers(
                db,
                organizer,
                r.id,
                2,
                f64::from(state.config.dispatch_radius_meters),
            )
            .await
            .context("ranking demo volunteers")?;
            let ids: Vec<i64> = nearest.iter().map(|c| c.account_id).collect();
            if !ids.is_empty() {
                help::dispatch(db, organizer, r.id, &ids)
                    .await
                    .context("dispatching a demo help request")?;
            }
        }
        summary.help_requests += 1;
    }
    Ok(())
}
