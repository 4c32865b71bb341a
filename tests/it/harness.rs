//! Test harness: a fresh migrated database per test (SQLite in a temp dir, or a new PostgreSQL
//! database when `TEST_DATABASE_URL` is set, dropped afterwards) and a real server on a free port.

use std::{net::SocketAddr, time::Duration};

use api::{AppState, Config, config::Secret, db};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};

/// The password of accounts made by [`TestApp::register`].
pub const TEST_PASSWORD: &str = "correct horse battery";

/// JWT secret of test servers, so tests can forge tokens signed with the right (or a wrong) key.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// A database that exists for one test.
pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    _dir: tempfile::TempDir,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// Create and migrate a fresh database.
    pub async fn new() -> Self {
        Self::migrated_to(None).await
    }

    /// Create a fresh database with the first `steps` migrations applied (all when `None`).
    pub async fn migrated_to(steps: Option<u32>) -> Self {
        Self::create(std::env::var("TEST_DATABASE_URL").ok(), steps).await
    }

    /// A fresh, migrated SQLite database, whatever `TEST_DATABASE_URL` says.
    pub async fn sqlite() -> Self {
        Self::create(None, None).await
    }

    /// A fresh, migrated database on the PostgreSQL server at `admin_url`.
    pub async fn on_postgres(admin_url: &str) -> Self {
        Self::create(Some(admin_url.to_owned()), None).await
    }

    async fn create(admin_url: Option<String>, steps: Option<u32>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_drop) = match admin_url {
            Some(admin_url) if !admin_url.is_empty() => {
                let name = format!("tongxing_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .expect("connect TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                (with_database(&admin_url, &name), Some((admin_url, name)))
            }
            _ => (
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                None,
            ),
        };
        let conn = db::connect(&url, 8).await.expect("connect test database");
        match steps {
            None => db::migrate(&conn).await.expect("migrate test database"),
            Some(n) => {
                use migration::MigratorTrait;
                migration::Migrator::up(&conn, Some(n))
                    .await
                    .expect("migrate test database part way")
            }
        }
        Self {
            conn,
            url,
            _dir: dir,
            pg_drop,
        }
    }

    /// Whether this is PostgreSQL.
    #[allow(dead_code)]
    pub fn is_postgres(&self) -> bool {
        self.pg_drop.is_some()
    }
}

/// Run `sql` with `?` placeholders on either backend (for seeding rows behind the API's back).
#[allow(dead_code)]
pub async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) {
    use sea_orm::{DbBackend, Statement};
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        let mut n = 0;
        sql.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        sql.to_owned()
    };
    db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Replace the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL with scheme");
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

/// Configuration of a test server over `db`.
pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config::for_data_dir(db._dir.path());
    config.database_url = Some(db.url.clone());
    config.jwt_secret = Some(Secret::new(JWT_SECRET));
    config.jwt_issuer = "tongxing".into();
    config.jwt_audience = "tongxing-api".into();
    config.access_token_ttl_secs = 900;
    config.default_page_size = 20;
    config.max_page_size = 100;
    config.login_attempts_per_phone = 5;
    config.login_attempts_per_address = 30;
    config.registrations_per_address = 1000;
    config.sms_codes_per_address = 100_000;
    // Every test client is 127.0.0.1: the request budgets get their own tests.
    config.requests_per_address = 1_000_000;
    config.requests_per_account = 1_000_000;
    config.idempotency_retention_hours = 48;
    config.checkout_grace_minutes = 60;
    config.trust_forwarded_for = false;
    config
}

/// App state over a fresh database, for service tests.
pub async fn test_state() -> (AppState, TestDb) {
    let db = TestDb::new().await;
    let state = AppState::new(db.conn.clone(), test_config(&db)).expect("state");
    (state, db)
}

/// A running server on a free port.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Sends `Accept-Language: en` with every request.
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::sync::oneshot::Receiver<()>>,
    db: std::sync::Arc<TestDb>,
    /// The payment provider the server's online donations go through.
    pub pay: crate::fakepay::FakeWechatPay,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the live listener (PostgreSQL) along with the server.
        self.state.live.begin_shutdown();
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_on(TestDb::new().await, adjust).await
    }

    /// A server over `db`, configured by `adjust`.
    pub async fn spawn_on(db: TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let pay = crate::fakepay::FakeWechatPay::start().await;
        let mut config = test_config(&db);
        pay.configure(&mut config);
        adjust(&mut config);
        let conn = db.conn.clone();
        Self::start(std::sync::Arc::new(db), conn, config, pay).await
    }

    /// On PostgreSQL a second replica (so live connections sit on another server than the
    /// changes they must hear of); on SQLite, one process, none.
    pub async fn replica_on_postgres(&self) -> Option<Self> {
        if self.state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            Some(self.spawn_replica().await)
        } else {
            None
        }
    }

    /// The error code of logging in to `phone` with `password` (`None`: it worked).
    pub async fn login_code(&self, phone: &str, password: &str) -> Option<String> {
        let (_, body) = self
            .post(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                json!({ "i": { "phone": phone, "password": password } }),
            )
            .await;
        body["errors"].is_array().then(|| first_code(&body))
    }

    /// A second server (another replica) on this server's database, with its own connection
    /// pool and the same configuration.
    pub async fn spawn_replica(&self) -> Self {
        let conn = api::db::connect(&self.db.url, 8)
            .await
            .expect("connect replica");
        Self::start(
            self.db.clone(),
            conn,
            self.state.config.as_ref().clone(),
            self.pay.clone(),
        )
        .await
    }

    async fn start(
        db: std::sync::Arc<TestDb>,
        conn: DatabaseConnection,
        mut config: Config,
        pay: crate::fakepay::FakeWechatPay,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // As `tongxing serve` does: links derived from the listening address name this port.
        config.listen = addr;
        if config.environment == api::config::Environment::Production {
            // Production takes payment notifications over HTTPS only, which a test server on
            // 127.0.0.1 does not have: production-mode test servers take no online payments.
            config.wechatpay_mchid = None;
        } else if config.wechatpay_notify_url.is_none() {
            config.wechatpay_notify_url = Some(format!("http://{addr}/payments/wechatpay/notify"));
        }
        let state = AppState::new(conn, config).expect("state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let router = api::app(state.clone());
        let live = state.live.clone();
        tokio::spawn(async move {
            let _ = api::web::serve(
                listener,
                router,
                async move {
                    let _ = rx.await;
                    live.begin_shutdown();
                },
                Duration::from_secs(1),
            )
            .await;
            let _ = stopped_tx.send(());
        });
        Self {
            addr,
            client: {
                api::sms::install_tls_provider();
                // English, explicitly: the assertions on message text throughout the suite are
                // in English. The default (Chinese) is tested with clients of their own
                // (`i18n_e2e`).
                let mut headers = reqwest::header::HeaderMap::new();
                headers.insert(
                    reqwest::header::ACCEPT_LANGUAGE,
                    reqwest::header::HeaderValue::from_static("en"),
                );
                reqwest::Client::builder()
                    .default_headers(headers)
                    .build()
                    .expect("HTTP client")
            },
            state,
            shutdown: Some(tx),
            stopped: Some(stopped_rx),
            db,
            pay,
        }
    }

    /// Shut the server down as SIGTERM would, and wait until it has stopped serving and every
    /// WebSocket connection has closed.
    pub async fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(rx) = self.stopped.take() {
            let _ = rx.await;
        }
        self.state
            .live
            .wait_for_connections(Duration::from_secs(2))
            .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POST a GraphQL operation; returns the HTTP status and the JSON body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.expect("JSON body");
        (status, body)
    }

    /// POST a GraphQL operation that must succeed; returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(token, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// POST a GraphQL operation that must fail; returns the first error's `extensions.code`.
    pub async fn err_code(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let (_, body) = self.post(token, query, variables).await;
        first_code(&body)
    }

    /// Ask for a code for `purpose` sent to `phone`, and read it from the SMS outbox as the
    /// phone's owner would.
    pub async fn sms_code(&self, phone: &str, purpose: &str) -> String {
        self.ok(
            None,
            "mutation($p: String!, $u: PhoneCodePurpose!) { requestPhoneCode(phone: $p, purpose: $u) { expiresAt } }",
            json!({ "p": phone, "u": purpose }),
        )
        .await;
        last_sms_code(&self.state, phone)
    }

    /// Register an account; returns (access token, refresh token, account ID).
    /// Donate online with `input` (a `DonateInput`) and pay through the fake provider, which
    /// notifies the server; the donation as `donate` answered it (still `PENDING` there).
    pub async fn donate_paid(&self, token: &str, input: Value) -> Value {
        let data = self
            .ok(
                Some(token),
                "mutation($i: DonateInput!) { donate(input: $i) { id status amountFen donorName payment { prepayId } } }",
                json!({ "i": input }),
            )
            .await;
        let d = data["donate"].clone();
        assert_eq!(d["status"], "PENDING", "{d}");
        let prepay = d["payment"]["prepayId"]
            .as_str()
            .expect("payment parameters");
        assert_eq!(
            self.pay.pay(prepay).await,
            204,
            "the notification is accepted"
        );
        d
    }

    pub async fn register(&self, phone: &str, name: &str) -> Session {
        let code = self.sms_code(phone, "REGISTER").await;
        let data = self
            .ok(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken account { id } } }",
                json!({ "i": { "phone": phone, "password": TEST_PASSWORD, "displayName": name, "smsCode": code } }),
            )
            .await;
        Session::from(&data["register"])
    }

    /// Register an account and make it a system administrator.
    pub async fn register_admin(&self, phone: &str) -> Session {
        let s = self.register(phone, "管理员").await;
        let key: i64 = s.account_key();
        self.state
            .db
            .execute_unprepared(&format!(
                "UPDATE account SET is_system_admin = TRUE WHERE id = {key}"
            ))
            .await
            .unwrap();
        s
    }

    /// Create an organization as `token`; returns its ID.
    pub async fn create_org(
        &self,
        token: &str,
        name: &str,
        kind: &str,
        parent: Option<&str>,
    ) -> String {
        let data = self
            .ok(
                Some(token),
                "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { id } }",
                json!({ "i": { "name": name, "kind": kind, "parentId": parent } }),
            )
            .await;
        data["createOrganization"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Give `phone` a role in `org` as `token`.
    /// Invite `phone` to `role` as `token`, and have the number's owner accept (behind the
    /// API's back: the owner's session is not at hand here; `organizations_e2e` accepts over
    /// the API).
    pub async fn add_member(&self, token: &str, org: &str, phone: &str, role: &str) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let data = self
            .ok(
                Some(token),
                "mutation($o: ID!, $p: String!, $r: MemberRole!) { addMember(organizationId: $o, phone: $p, role: $r) { id } }",
                json!({ "o": org, "p": phone, "r": role }),
            )
            .await;
        let invitation = match api::ids::decode_any(data["addMember"]["id"].as_str().unwrap()) {
            Some((api::ids::NodeType::Invitation, k)) => k,
            other => panic!("not an invitation: {other:?}"),
        };
        let number = api::accounts::domain::Phone::parse(phone, "phone").unwrap();
        let owner = entity::account::Entity::find()
            .filter(entity::account::Column::Phone.eq(number.as_str()))
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("the invited number is registered");
        api::organizations::service::accept_invitation(&self.state.db, &owner, invitation)
            .await
            .unwrap();
    }
}

/// Tokens and ID of a logged-in account.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub account_id: String,
}

impl Session {
    pub fn from(payload: &Value) -> Self {
        Self {
            access: payload["accessToken"]
                .as_str()
                .expect("accessToken")
                .to_owned(),
            refresh: payload["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .to_owned(),
            account_id: payload["account"]["id"]
                .as_str()
                .expect("account id")
                .to_owned(),
        }
    }

    /// Database key of the account (decoded from its global ID).
    pub fn account_key(&self) -> i64 {
        match api::ids::decode_any(&self.account_id) {
            Some((api::ids::NodeType::Account, key)) => key,
            other => panic!("not an account ID: {other:?}"),
        }
    }
}

/// `extensions.code` of the first error of a response body.
pub fn first_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
        .to_owned()
}

/// An organization tree with an organizer, for volunteering tests.
#[allow(dead_code)]
pub struct World {
    pub root: Session,
    pub city: String,
    pub district: String,
    pub station: String,
    pub other_station: String,
    pub organizer: Session,
    pub other_organizer: Session,
}

#[allow(dead_code)]
impl TestApp {
    /// City → district → two stations, with an ORGANIZER on each station.
    pub async fn world(&self) -> World {
        let root = self.register_admin("13900000000").await;
        let city = self
            .create_org(&root.access, "苏州市", "CITY_CENTER", None)
            .await;
        let district = self
            .create_org(&root.access, "昆山市", "DISTRICT_CENTER", Some(&city))
            .await;
        let station = self
            .create_org(&root.access, "亭林社工站", "STATION", Some(&district))
            .await;
        let other_station = self
            .create_org(&root.access, "周市社工站", "STATION", Some(&district))
            .await;
        let organizer = self.register("13900000001", "组织者").await;
        let other_organizer = self.register("13900000002", "另一个组织者").await;
        self.add_member(&root.access, &station, "13900000001", "ORGANIZER")
            .await;
        self.add_member(&root.access, &other_station, "13900000002", "ORGANIZER")
            .await;
        World {
            root,
            city,
            district,
            station,
            other_station,
            organizer,
            other_organizer,
        }
    }

    /// Serve an hour: move `shift` (at an event near 31.38, 120.98) to 90–30 minutes ago and
    /// have the volunteer check in by GEO 100 minutes ago and out 10 minutes ago, as a phone
    /// that was offline would; the record is clipped to the shift's 60 minutes. Returns it.
    pub async fn serve_an_hour(&self, vol: &str, shift: &str) -> entity::service_record::Model {
        let now = chrono::Utc::now();
        self.reschedule_shift(
            shift,
            now - chrono::Duration::minutes(90),
            now - chrono::Duration::minutes(30),
        )
        .await;
        for (mutation, ago, id) in [("checkIn", 100, "in"), ("checkOut", 10, "out")] {
            self.ok(
                Some(vol),
                &format!("mutation($i: CheckInput!) {{ {mutation}(input: $i) {{ duplicate }} }}"),
                json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.98 }, "clientEventId": id, "occurredAt": (now - chrono::Duration::minutes(ago)).to_rfc3339() } }),
            )
            .await;
        }
        let shift_key = match api::ids::decode_any(shift) {
            Some((api::ids::NodeType::Shift, key)) => key,
            other => panic!("not a shift ID: {other:?}"),
        };
        entity::service_record::Entity::find()
            .filter(entity::service_record::Column::ShiftId.eq(shift_key))
            .one(&self.state.db)
            .await
            .unwrap()
            .expect("a service record")
    }

    /// A published event of `w`'s station starting in an hour, by its organizer; returns its
    /// ID.
    pub async fn station_event(&self, w: &World, title: &str) -> String {
        self.event_at(
            &w.organizer.access,
            &w.station,
            title,
            31.38,
            120.98,
            1,
            true,
        )
        .await
    }

    /// Create (and optionally publish) an event at a place; returns its ID.
    #[allow(clippy::too_many_arguments)] // a test helper: every argument is a knob tests turn
    pub async fn event_at(
        &self,
        token: &str,
        org: &str,
        title: &str,
        lat: f64,
        lng: f64,
        starts_in_hours: i64,
        publish: bool,
    ) -> String {
        let starts = chrono::Utc::now() + chrono::Duration::hours(starts_in_hours);
        let ends = starts + chrono::Duration::hours(8);
        let data = self
            .ok(
                Some(token),
                "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
                json!({ "i": {
                    "organizationId": org, "title": title, "category": "ELDERLY_CARE",
                    "address": "前进西路86号", "latitude": lat, "longitude": lng,
                    "startsAt": starts.to_rfc3339(), "endsAt": ends.to_rfc3339()
                } }),
            )
            .await;
        let id = data["createEvent"]["id"].as_str().unwrap().to_owned();
        if publish {
            self.ok(
                Some(token),
                "mutation($id: ID!) { publishEvent(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        }
        id
    }

    /// Add a 2-hour shift at the start of an event.
    pub async fn shift_in(
        &self,
        token: &str,
        event: &str,
        capacity: i32,
        waitlist: bool,
        skills: &[&str],
    ) -> String {
        let data = self
            .ok(
                Some(token),
                "query($id: ID!) { event(id: $id) { startsAt } }",
                json!({ "id": event }),
            )
            .await;
        let starts: chrono::DateTime<chrono::Utc> =
            data["event"]["startsAt"].as_str().unwrap().parse().unwrap();
        self.shift_at(token, event, starts, capacity, waitlist, skills)
            .await
    }

    /// Add a 2-hour shift starting at `starts`.
    pub async fn shift_at(
        &self,
        token: &str,
        event: &str,
        starts: chrono::DateTime<chrono::Utc>,
        capacity: i32,
        waitlist: bool,
        skills: &[&str],
    ) -> String {
        let ends = starts + chrono::Duration::hours(2);
        let data = self
            .ok(
                Some(token),
                "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
                json!({ "i": {
                    "eventId": event, "title": "助餐", "startsAt": starts.to_rfc3339(),
                    "endsAt": ends.to_rfc3339(), "capacity": capacity,
                    "waitlistEnabled": waitlist, "requiredSkills": skills
                } }),
            )
            .await;
        data["createShift"]["id"].as_str().unwrap().to_owned()
    }

    /// Many volunteer accounts at once, straight into the database (hashing 200 passwords
    /// would dominate the test), each with a valid access token.
    pub async fn bulk_volunteers(&self, n: usize, phone_prefix: &str) -> Vec<(i64, String)> {
        use entity::account;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
        let now = chrono::Utc::now();
        let rows: Vec<account::ActiveModel> = (0..n)
            .map(|i| account::ActiveModel {
                phone: Set(format!("{phone_prefix}{i:04}")),
                password_hash: Set(
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$not-a-real-hash".into()
                ),
                display_name: Set(format!("志愿者{i}")),
                is_system_admin: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        account::Entity::insert_many(rows)
            .exec_without_returning(&self.state.db)
            .await
            .unwrap();
        let mut made = account::Entity::find()
            .filter(account::Column::Phone.starts_with(phone_prefix))
            .all(&self.state.db)
            .await
            .unwrap();
        made.sort_by_key(|a| a.phone.clone());
        made.into_iter()
            .map(|a| (a.id, self.state.jwt.issue(a.id).unwrap().0))
            .collect()
    }

    /// Pretend a help request was accepted `hours` ago (its volunteer may then report up to
    /// that much service).
    pub async fn backdate_acceptance(&self, request: &str, hours: i64) {
        use entity::help_request as hr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let key = api::ids::decode_any(&async_graphql::ID(request.to_owned()))
            .expect("a help request ID")
            .1;
        hr::Entity::update_many()
            .col_expr(
                hr::Column::AcceptedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::hours(hours)),
            )
            .filter(hr::Column::Id.eq(key))
            .exec(&self.state.db)
            .await
            .unwrap();
    }

    /// Move a shift in time behind the API's back (the API refuses shifts in the past), so
    /// tests can check in and out of a shift that has already run.
    pub async fn reschedule_shift(
        &self,
        shift: &str,
        starts_at: chrono::DateTime<chrono::Utc>,
        ends_at: chrono::DateTime<chrono::Utc>,
    ) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        let key = match api::ids::decode_any(shift) {
            Some((api::ids::NodeType::Shift, k)) => k,
            other => panic!("not a shift ID: {other:?}"),
        };
        entity::shift::Entity::update_many()
            .col_expr(entity::shift::Column::StartsAt, Expr::value(starts_at))
            .col_expr(entity::shift::Column::EndsAt, Expr::value(ends_at))
            .filter(entity::shift::Column::Id.eq(key))
            .exec(&self.state.db)
            .await
            .unwrap();
    }

    /// Sign up with a fresh idempotency key; returns the whole response body.
    pub async fn sign_up(&self, token: &str, shift: &str, key: impl AsRef<str>) -> Value {
        let key = key.as_ref();
        self.post(
            Some(token),
            "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { id status waitlistPosition } }",
            json!({ "s": shift, "k": key }),
        )
        .await
        .1
    }
}

/// The SMS outbox of a server using the development file sender.
pub fn sms_outbox(state: &api::AppState) -> std::path::PathBuf {
    match state
        .config
        .sms_sender
        .as_deref()
        .and_then(|s| s.strip_prefix("file:"))
    {
        Some(path) => path.into(),
        None => state.config.data_dir.join("sms-outbox.jsonl"),
    }
}

/// The code of the last message the outbox holds for `phone` (as typed: `138…` or `+86138…`).
pub fn last_sms_code(state: &api::AppState, phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = &digits[digits.len().saturating_sub(11)..];
    if state.config.sms_sender.as_deref() == Some("aliyun") {
        return crate::fakenotify::code_sent_to(&state.config.sms_endpoint, national)
            .unwrap_or_else(|| panic!("no code sent to {phone}"));
    }
    let text = std::fs::read_to_string(sms_outbox(state)).unwrap_or_default();
    let line = text
        .lines()
        .rev()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        // Codes, not notifications (which carry their kind).
        .find(|m| m["kind"].is_null() && m["phone"].as_str().is_some_and(|p| p.ends_with(national)))
        .unwrap_or_else(|| panic!("no text message to {phone}"));
    let digits: String = line["text"]
        .as_str()
        .unwrap()
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(digits.len(), 6, "{line}");
    digits
}
