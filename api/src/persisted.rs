//! Persisted queries. **Automatic persisted queries** (Apollo's protocol): a client sends
//! `extensions.persistedQuery {version: 1, sha256Hash}` without the query; if the server knows
//! the hash it runs the stored document, otherwise it answers `PERSISTED_QUERY_NOT_FOUND` and
//! the client sends hash and query once, which registers it (a bounded LRU per process; another
//! replica simply asks once more). Works over GET too, so a phone's feed is a short cacheable
//! URL. **Trusted documents**: with `TONGXING_TRUSTED_DOCUMENTS` naming a manifest, only the
//! operations in it run — by hash or by their exact text — and anything else is refused with
//! `PERSISTED_QUERY_NOT_IN_LIST`.

use std::{collections::HashMap, num::NonZeroUsize, path::Path, sync::Arc, sync::Mutex};

use async_graphql::{Request, ServerError, ServerResult};
use sha2::{Digest, Sha256};

use crate::i18n::{Msg, coded_error as coded};

/// Documents kept for automatic persisted queries, per process.
const APQ_CAPACITY: usize = 2_000;
/// Longest document that may be registered.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// `extensions.code` when the hash is unknown (the client should send the query).
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// `extensions.code` when trusted-documents mode refuses an operation.
pub const NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";

/// The store of persisted documents, shared by the HTTP handlers and the schema.
pub struct PersistedQueries {
    apq: Mutex<lru::LruCache<String, Arc<str>>>,
    trusted: Option<HashMap<String, Arc<str>>>,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Not found: a protocol word, not a message — Apollo's clients compare it, so it is the
/// same in every language.
fn not_found() -> ServerError {
    let mut err = ServerError::new("PersistedQueryNotFound", None);
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", NOT_FOUND);
    err
}

fn trusted_only() -> Msg {
    msg!(
        "this server runs only its trusted documents",
        "本服务只运行已登记的查询"
    )
}

impl PersistedQueries {
    /// Automatic persisted queries only.
    pub fn automatic() -> Self {
        Self {
            apq: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(APQ_CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
            trusted: None,
        }
    }

    /// Trusted-documents mode, from a manifest: Apollo's persisted-query manifest
    /// (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`) or a
    /// plain JSON object of `sha256 → document`. Every id must be the SHA-256 of its body.
    pub fn trusted_from_file(path: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the trusted documents {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let pairs: Vec<(String, String)> = match json.get("operations") {
            Some(ops) => ops
                .as_array()
                .context("`operations` must be a list")?
                .iter()
                .map(|op| {
                    let id = op["id"].as_str().context("an operation without `id`")?;
                    let body = op["body"].as_str().context("an operation without `body`")?;
                    Ok((id.to_owned(), body.to_owned()))
                })
                .collect::<anyhow::Result<_>>()?,
            None => json
                .as_object()
                .context("the manifest must be an object")?
                .iter()
                .map(|(id, body)| {
                    let body = body.as_str().context("a document that is not a string")?;
                    Ok((id.clone(), body.to_owned()))
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let mut trusted = HashMap::new();
        for (id, body) in pairs {
            let actual = sha256_hex(&body);
            anyhow::ensure!(
                id.eq_ignore_ascii_case(&actual),
                "trusted document {id} does not hash to its id (it is {actual})"
            );
            async_graphql::parser::parse_query(&body)
                .map_err(|e| anyhow::anyhow!("trusted document {id} does not parse: {e}"))?;
            trusted.insert(actual, Arc::from(body));
        }
        tracing::info!(documents = trusted.len(), "trusted documents loaded");
        Ok(Self {
            trusted: Some(trusted),
            ..Self::automatic()
        })
    }

    /// Whether only trusted documents run.
    pub fn is_trusted_mode(&self) -> bool {
        self.trusted.is_some()
    }

    fn lookup(&self, hash: &str) -> Option<Arc<str>> {
        match &self.trusted {
            Some(t) => t.get(hash).cloned(),
            None => self
                .apq
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(hash)
                .cloned(),
        }
    }

    /// Fill in `request.query` from its persisted-query extension, register a new document
    /// (automatic mode), and enforce the trusted list. Afterwards the request carries its query
    /// text and no `persistedQuery` extension, so calling this again is harmless.
    pub fn resolve(&self, request: &mut Request) -> ServerResult<()> {
        let Some(ext) = request.extensions.remove("persistedQuery") else {
            // A plain request: fine, unless only trusted documents may run.
            if let Some(trusted) = &self.trusted
                && !trusted.contains_key(&sha256_hex(&request.query))
            {
                return Err(coded(trusted_only(), NOT_IN_LIST));
            }
            return Ok(());
        };
        let ext = ext.into_json().unwrap_or_default();
        if ext["version"].as_i64() != Some(1) {
            return Err(coded(
                msg!(
                    "only version 1 of persisted queries is supported",
                    "只支持第 1 版持久化查询"
                ),
                "PERSISTED_QUERY_NOT_SUPPORTED",
            ));
        }
        let Some(hash) = ext["sha256Hash"].as_str().map(str::to_ascii_lowercase) else {
            return Err(coded(
                msg!(
                    "persistedQuery needs a sha256Hash",
                    "持久化查询须提供 sha256Hash"
                ),
                "BAD_USER_INPUT",
            ));
        };
        if request.query.is_empty() {
            return match self.lookup(&hash) {
                Some(doc) => {
                    request.query = doc.to_string();
                    Ok(())
                }
                // Apollo's clients look for this message as well as the code.
                None => Err(not_found()),
            };
        }
        if sha256_hex(&request.query) != hash {
            let mut err = coded(
                msg!(
                    "provided sha does not match query",
                    "sha256Hash 与查询内容不符"
                ),
                "BAD_USER_INPUT",
            );
            if let Some(e) = err.extensions.as_mut() {
                e.set("reason", "PERSISTED_QUERY_HASH_MISMATCH");
            }
            return Err(err);
        }
        match &self.trusted {
            Some(trusted) if !trusted.contains_key(&hash) => {
                Err(coded(trusted_only(), NOT_IN_LIST))
            }
            Some(_) => Ok(()),
            None => {
                if request.query.len() <= MAX_DOCUMENT_BYTES {
                    self.apq
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .put(hash, Arc::from(request.query.as_str()));
                }
                Ok(())
            }
        }
    }
}

/// Parsed documents by their text: phones send the same few documents over and over, and
/// parsing one costs more than copying its syntax tree. Only documents that parsed (and
/// passed the parser's depth and directive checks) are kept; validation still runs on every
/// request, since it depends on the variables.
pub struct DocumentCache {
    docs: Mutex<lru::LruCache<String, async_graphql::parser::types::ExecutableDocument>>,
}

impl DocumentCache {
    /// A cache of at most `capacity` documents (least recently used go first).
    pub fn new(capacity: usize) -> Self {
        Self {
            docs: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(capacity.max(1)).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
        }
    }

    /// The parsed document of `query`, if it was parsed before.
    pub fn get(&self, query: &str) -> Option<async_graphql::parser::types::ExecutableDocument> {
        self.lock().get(query).cloned()
    }

    /// Keep the parsed document of `query`.
    pub fn put(&self, query: &str, doc: &async_graphql::parser::types::ExecutableDocument) {
        // Huge documents would crowd out the ones phones repeat; they are parsed each time.
        if query.len() <= 16 * 1024 {
            self.lock().put(query.to_owned(), doc.clone());
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        lru::LruCache<String, async_graphql::parser::types::ExecutableDocument>,
    > {
        self.docs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_documents_are_kept_by_text_and_the_oldest_go_first() {
        let cache = DocumentCache::new(2);
        let parse = |q: &str| async_graphql::parser::parse_query(q).unwrap();
        let (a, b, c) = ("{ a }", "{ b }", "{ c }");
        assert!(cache.get(a).is_none());
        cache.put(a, &parse(a));
        cache.put(b, &parse(b));
        assert_eq!(
            format!("{:?}", cache.get(a)),
            format!("{:?}", Some(parse(a)))
        );
        cache.put(c, &parse(c));
        assert!(cache.get(b).is_none(), "the least recently used went first");
        assert!(cache.get(a).is_some() && cache.get(c).is_some());
        // A huge document is parsed each time rather than crowding out the small ones.
        let huge = format!("{{ {} }}", "a ".repeat(10_000));
        cache.put(&huge, &parse(&huge));
        assert!(cache.get(&huge).is_none());
    }

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut r = Request::new(query);
        r.extensions.insert(
            "persistedQuery".to_owned(),
            async_graphql::Value::from_json(
                serde_json::json!({ "version": 1, "sha256Hash": hash }),
            )
            .unwrap(),
        );
        r
    }

    fn code(e: &ServerError) -> String {
        e.extensions
            .as_ref()
            .unwrap()
            .get("code")
            .unwrap()
            .to_string()
    }

    #[test]
    fn register_then_hash_only() {
        let store = PersistedQueries::automatic();
        let q = "{ me { id } }";
        let h = sha256_hex(q);
        let err = store.resolve(&mut with_hash("", &h)).unwrap_err();
        assert_eq!(err.message, "PersistedQueryNotFound");
        assert_eq!(code(&err), format!("\"{NOT_FOUND}\""));
        store.resolve(&mut with_hash(q, &h)).unwrap();
        let mut again = with_hash("", &h);
        store.resolve(&mut again).unwrap();
        assert_eq!(again.query, q);
        assert!(store.resolve(&mut with_hash(q, &"0".repeat(64))).is_err());
    }

    #[test]
    fn trusted_mode_runs_only_the_manifest() {
        let q = "query Feed { organizations { edges { cursor } } }";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(
            &path,
            serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{ "id": sha256_hex(q), "name": "Feed", "type": "query", "body": q }] })
            .to_string(),
        )
        .unwrap();
        let store = PersistedQueries::trusted_from_file(&path).unwrap();
        let mut by_hash = with_hash("", &sha256_hex(q));
        store.resolve(&mut by_hash).unwrap();
        assert_eq!(by_hash.query, q);
        store.resolve(&mut Request::new(q)).unwrap();
        let other = "{ me { id } }";
        for mut r in [Request::new(other), with_hash(other, &sha256_hex(other))] {
            let err = store.resolve(&mut r).unwrap_err();
            assert_eq!(code(&err), format!("\"{NOT_IN_LIST}\""));
        }
        // A manifest whose id is not its body's hash is refused at start.
        std::fs::write(&path, serde_json::json!({ "0000": q }).to_string()).unwrap();
        assert!(PersistedQueries::trusted_from_file(&path).is_err());
    }
}
