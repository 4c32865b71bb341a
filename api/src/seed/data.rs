//! The demo city's tables: who runs it, its organizations, events and shifts, volunteers and
//! who signs up for what. Data only; [`super::city`] builds it through the services.

use crate::events::domain::EventCategory;

pub(super) const ADMIN_PHONE: &str = "13900000000";
pub(super) const ADMIN_NAME: &str = "演示管理员";

/// An organizer and the stations (indexes into [`STATIONS`]) they organize.
pub(super) struct DemoOrganizer {
    pub(super) phone: &'static str,
    pub(super) name: &'static str,
    pub(super) stations: &'static [usize],
}

pub(super) const ORGANIZERS: [DemoOrganizer; 2] = [
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
pub(super) struct DemoOrg {
    pub(super) name: &'static str,
    pub(super) region_code: &'static str,
    pub(super) address: &'static str,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
}

pub(super) const CITY: DemoOrg = DemoOrg {
    name: "苏州市社会工作指导中心",
    region_code: "320500",
    address: "苏州市姑苏区三香路120号",
    latitude: 31.2990,
    longitude: 120.5853,
};

pub(super) const DISTRICTS: [DemoOrg; 2] = [
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
pub(super) const STATIONS: [(usize, DemoOrg); 4] = [
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
pub(super) const ROOMS: [(usize, DemoOrg); 2] = [
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

pub(super) const CHARITY: DemoOrg = DemoOrg {
    name: "苏州同行公益基金会",
    region_code: "320508",
    address: "苏州市姑苏区人民路1500号",
    latitude: 31.3070,
    longitude: 120.6110,
};

/// A shift of a demo event: minutes after the event's start, length in minutes.
pub(super) struct DemoShift {
    pub(super) title: &'static str,
    pub(super) description: &'static str,
    pub(super) offset_minutes: i64,
    pub(super) minutes: i64,
    pub(super) capacity: i32,
    pub(super) waitlist: bool,
    pub(super) skills: &'static [&'static str],
}

/// A demo event: `days` after today (city time), starting at `hour:minute` city time.
pub(super) struct DemoEvent {
    pub(super) station: usize,
    pub(super) title: &'static str,
    pub(super) description: &'static str,
    pub(super) category: EventCategory,
    pub(super) address: &'static str,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
    pub(super) days: u64,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) minutes: i64,
    pub(super) in_campaign: bool,
    pub(super) shifts: &'static [DemoShift],
}

pub(super) const EVENTS: [DemoEvent; 11] = [
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
pub(super) const SERIES_WEEKS: u32 = 4;

/// A demo volunteer.
pub(super) struct DemoVolunteer {
    pub(super) phone: &'static str,
    pub(super) name: &'static str,
    pub(super) skills: &'static [&'static str],
    pub(super) bio: &'static str,
    pub(super) latitude: f64,
    pub(super) longitude: f64,
}

pub(super) const VOLUNTEERS: [DemoVolunteer; 5] = [
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
pub(super) enum Target {
    /// (event index in [`EVENTS`], shift index in that event).
    Event(usize, usize),
    /// Occurrence index in the weekly series.
    Series(usize),
}

/// Sign-ups, in order: (volunteer index in [`VOLUNTEERS`], target). The fourth sign-up for the
/// three places of the phone follow-up lands on its waitlist.
pub(super) const SIGNUPS: [(usize, Target); 13] = [
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
