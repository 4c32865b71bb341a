//! SeaORM models of Tongxing, one module per table. Models only: no business rules live here,
//! and none of these types is exposed through GraphQL directly (see `api`).

pub mod account;
pub mod api_client;
pub mod api_client_secret;
pub mod audit_log;
pub mod calendar_feed;
pub mod campaign;
pub mod care_consent;
pub mod care_plan;
pub mod care_recipient;
pub mod care_task;
pub mod care_visit;
pub mod charity_event;
pub mod charity_fund;
pub mod check_event;
pub mod community_need;
pub mod community_resource;
pub mod disbursement;
pub mod donation;
pub mod help_offer;
pub mod help_request;
pub mod help_request_step;
pub mod idempotency_key;
pub mod identity;
pub mod invitation;
pub mod kiosk_credential;
pub mod live_event;
pub mod membership;
pub mod micro_wish;
pub mod notification;
pub mod notification_delivery;
pub mod notification_preference;
pub mod notification_setting;
pub mod organization;
pub mod organization_closure;
pub mod organization_reminder;
pub mod phone_code;
pub mod pin_guess;
pub mod project_deliverable;
pub mod project_review;
pub mod refresh_token;
pub mod scheduler_mark;
pub mod service_certificate;
pub mod service_project;
pub mod service_record;
pub mod service_record_change;
pub mod shift;
pub mod shift_training;
pub mod signup;
pub mod squad;
pub mod squad_member;
pub mod staff_assignment;
pub mod station_service;
pub mod timebank_account;
pub mod timebank_entry;
pub mod timebank_transfer;
pub mod topic;
pub mod topic_change;
pub mod topic_meeting;
pub mod topic_support;
pub mod training_record;
pub mod volunteer_profile;
pub mod wechat_consent;
pub mod wechat_link;

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    /// The stored strings of every variant, in declaration order.
    fn stored<E: ActiveEnum<Value = String> + Iterable>() -> Vec<String> {
        E::iter().map(|v| v.to_value()).collect()
    }

    /// Rows written before the columns were typed hold these strings; changing one would need
    /// a data migration.
    #[test]
    fn stored_values_are_the_ones_already_in_the_database() {
        let cases: [(&str, Vec<String>, &[&str]); 48] = [
            (
                "topic",
                stored::<super::topic::TopicCategory>(),
                &[
                    "FACILITIES",
                    "ENVIRONMENT",
                    "SAFETY",
                    "NEIGHBOURHOOD",
                    "SERVICES",
                    "OTHER",
                ],
            ),
            (
                "topic",
                stored::<super::topic::TopicStatus>(),
                &[
                    "RAISED",
                    "DISCUSSING",
                    "RESOLVED",
                    "IMPLEMENTED",
                    "FOLLOWING_UP",
                    "DECLINED",
                ],
            ),
            (
                "topic",
                stored::<super::topic::HideReason>(),
                &["OFF_TOPIC", "DUPLICATE", "PERSONAL_DATA", "ABUSIVE"],
            ),
            (
                "notification",
                stored::<super::notification::NotificationKind>(),
                &[
                    "SIGNED_UP",
                    "WAITLISTED",
                    "PROMOTED",
                    "SIGNUP_CANCELLED",
                    "SHIFT_CANCELLED",
                    "SHIFT_CHANGED",
                    "SHIFT_REMINDER",
                    "CHECKOUT_MISSING",
                    "HELP_OFFERED",
                    "HELP_WITHDRAWN",
                    "RECORD_APPROVED",
                    "RECORD_REJECTED",
                    "RECORD_CORRECTED",
                    "CERTIFICATE_ISSUED",
                    "WISH_CLAIM_LAPSING",
                    "INVITED",
                    "RECORDS_AWAITING_REVIEW",
                    "CARE_ALERT",
                    "CARE_VISIT_OVERDUE",
                    "CARE_TASKS_OVERDUE",
                ],
            ),
            (
                "notification_preference",
                stored::<super::notification::NotificationCategory>(),
                &[
                    "SIGNUPS",
                    "SHIFT_CHANGES",
                    "REMINDERS",
                    "HELP",
                    "RECORDS",
                    "CERTIFICATES",
                    "WISHES",
                    "INVITATIONS",
                    "CARE",
                ],
            ),
            (
                "notification_delivery",
                stored::<super::notification::NotificationChannel>(),
                &["IN_APP", "SMS", "WECHAT"],
            ),
            (
                "notification_delivery",
                stored::<super::notification_delivery::DeliveryStatus>(),
                &["PENDING", "SENT", "SKIPPED", "DEAD"],
            ),
            (
                "squad_member",
                stored::<super::squad_member::SquadRole>(),
                &["LEADER", "MEMBER"],
            ),
            (
                "squad_member",
                stored::<super::squad_member::SquadMemberStatus>(),
                &["APPLIED", "INVITED", "ACTIVE", "LEFT", "REMOVED"],
            ),
            (
                "staff_assignment",
                stored::<super::staff_assignment::AssignmentKind>(),
                &["RESIDENT", "DISPATCHED"],
            ),
            (
                "staff_assignment",
                stored::<super::staff_assignment::SocialWorkerLevel>(),
                &["ASSISTANT", "INTERMEDIATE", "SENIOR"],
            ),
            (
                "shift",
                stored::<super::shift::ShiftStatus>(),
                &["OPEN", "CANCELLED"],
            ),
            (
                "charity_event",
                stored::<super::charity_event::EventStatus>(),
                &["DRAFT", "PUBLISHED", "CANCELLED", "COMPLETED"],
            ),
            (
                "campaign",
                stored::<super::campaign::CampaignStatus>(),
                &["DRAFT", "PUBLISHED", "CLOSED", "CANCELLED"],
            ),
            (
                "signup",
                stored::<super::signup::SignupStatus>(),
                &[
                    "CONFIRMED",
                    "WAITLISTED",
                    "CANCELLED",
                    "ATTENDED",
                    "NO_SHOW",
                ],
            ),
            (
                "help_request",
                stored::<super::help_request::HelpStatus>(),
                &[
                    "REPORTED",
                    "DISPATCHED",
                    "ACCEPTED",
                    "COMPLETED",
                    "CANCELLED",
                ],
            ),
            (
                "help_request.urgency",
                stored::<super::help_request::Urgency>(),
                &["LOW", "NORMAL", "HIGH", "CRITICAL"],
            ),
            (
                "category",
                stored::<super::charity_event::EventCategory>(),
                &[
                    "ELDERLY_CARE",
                    "CHILDREN",
                    "DISABILITY",
                    "ENVIRONMENT",
                    "COMMUNITY_GOVERNANCE",
                    "HEALTH",
                    "EDUCATION",
                    "EMERGENCY",
                    "OTHER",
                ],
            ),
            (
                "identity",
                stored::<super::identity::IdType>(),
                &[
                    "MAINLAND_ID",
                    "HONG_KONG_MACAO_PERMIT",
                    "TAIWAN_PERMIT",
                    "PASSPORT",
                    "FOREIGN_PERMANENT_RESIDENT",
                ],
            ),
            (
                "help_offer",
                stored::<super::help_offer::OfferStatus>(),
                &["OPEN", "ACCEPTED", "DECLINED", "CLOSED"],
            ),
            (
                "organization",
                stored::<super::organization::OrganizationKind>(),
                &[
                    "CITY_CENTER",
                    "DISTRICT_CENTER",
                    "STATION",
                    "ROOM",
                    "SOCIAL_ORG",
                    "CHARITY",
                ],
            ),
            (
                "membership",
                stored::<super::membership::MemberRole>(),
                &["ADMIN", "ORGANIZER", "SOCIAL_WORKER"],
            ),
            (
                "check_event.kind",
                stored::<super::check_event::CheckKind>(),
                &["CHECK_IN", "CHECK_OUT"],
            ),
            (
                "check_event.method",
                stored::<super::check_event::CheckMethod>(),
                &["QR", "GEO", "MANUAL"],
            ),
            (
                "check_event.evidence",
                stored::<super::check_event::Evidence>(),
                &["CODE", "LATE_CODE", "LOCATION", "STAFF"],
            ),
            (
                "phone_code",
                stored::<super::phone_code::CodePurpose>(),
                &["REGISTER", "RESET_PASSWORD", "CHANGE_PHONE", "LOGIN"],
            ),
            (
                "service_record",
                stored::<super::service_record::RecordStatus>(),
                &["PENDING", "APPROVED", "REJECTED"],
            ),
            (
                "service_record_change",
                stored::<super::service_record_change::RecordAction>(),
                &["APPROVE", "REJECT", "CORRECT"],
            ),
            (
                "micro_wish",
                stored::<super::micro_wish::WishStatus>(),
                &["OPEN", "CLAIMED", "FULFILLED", "CONFIRMED", "CANCELLED"],
            ),
            (
                "timebank_transfer",
                stored::<super::timebank_transfer::TransferKind>(),
                &["SERVICE", "GIFT", "REDEEM", "CORRECTION"],
            ),
            (
                "live_event",
                stored::<super::live_event::LiveKind>(),
                &[
                    "SHIFT",
                    "SIGNUP",
                    "CHECK_IN",
                    "HELP_OFFER",
                    "ACCOUNT_CLOSED",
                    "ACCESS_CHANGED",
                    "NOTIFICATION",
                ],
            ),
            (
                "donation.status",
                stored::<super::donation::DonationStatus>(),
                &["PENDING", "CONFIRMED", "EXPIRED"],
            ),
            (
                "donation.channel",
                stored::<super::donation::DonationChannel>(),
                &["WECHAT_PAY", "CASH", "BANK_TRANSFER", "UNVERIFIED"],
            ),
            (
                "service_project.field",
                stored::<super::service_project::ServiceField>(),
                &[
                    "SOCIAL_WELFARE",
                    "SOCIAL_ASSISTANCE",
                    "COMMUNITY_BUILDING",
                    "CHILDREN_IN_DIFFICULTY",
                    "DISABILITY_REHABILITATION",
                    "ELDERLY_SERVICE",
                    "OTHER",
                ],
            ),
            (
                "service_project.funding",
                stored::<super::service_project::FundingSource>(),
                &[
                    "GOVERNMENT_PURCHASE",
                    "WELFARE_LOTTERY",
                    "CHARITY_FUND",
                    "JOINT_VENTURE",
                    "OTHER",
                ],
            ),
            (
                "project_deliverable.status",
                stored::<super::project_deliverable::DeliverableStatus>(),
                &["PENDING", "MET", "MISSED"],
            ),
            (
                "project_review.stage",
                stored::<super::project_review::ReviewStage>(),
                &["MID_TERM", "FINAL"],
            ),
            (
                "project_review.grade",
                stored::<super::project_review::ReviewGrade>(),
                &["EXCELLENT", "GOOD", "PASS", "FAIL"],
            ),
            (
                "community_need.status",
                stored::<super::community_need::NeedStatus>(),
                &["OPEN", "ADDRESSED", "CLOSED"],
            ),
            (
                "community_resource.kind",
                stored::<super::community_resource::ResourceKind>(),
                &["PERSON", "VENUE", "FUND", "SKILL"],
            ),
            (
                "care_recipient.age_group",
                stored::<super::care_recipient::AgeGroup>(),
                &["MINOR", "ADULT", "SENIOR", "ELDERLY_80_PLUS"],
            ),
            (
                "care_recipient.status",
                stored::<super::care_recipient::RecipientStatus>(),
                &["ACTIVE", "ERASED"],
            ),
            (
                "care_consent.given_by",
                stored::<super::care_consent::ConsentGiver>(),
                &["PERSON", "GUARDIAN", "AGENT"],
            ),
            (
                "care_consent.means",
                stored::<super::care_consent::ConsentMeans>(),
                &["WRITTEN", "ORAL_RECORDED", "ELECTRONIC"],
            ),
            (
                "care_task.party",
                stored::<super::care_task::CareParty>(),
                &[
                    "CIVIL_AFFAIRS",
                    "COMMUNITY_WORKER",
                    "THIRD_PARTY",
                    "VOLUNTEER",
                ],
            ),
            (
                "care_task.kind",
                stored::<super::care_task::CareTaskKind>(),
                &["PHONE_CALL", "HOME_VISIT"],
            ),
            (
                "care_task.cadence",
                stored::<super::care_task::Cadence>(),
                &["WEEKLY", "FORTNIGHTLY", "MONTHLY", "QUARTERLY"],
            ),
            (
                "care_visit.observation",
                stored::<super::care_visit::Observation>(),
                &["OK", "CONCERN", "URGENT"],
            ),
        ];
        for (table, got, want) in cases {
            assert_eq!(got, want, "{table}");
        }
    }
}
