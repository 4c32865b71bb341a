//! Request limits that are not the schema's own depth and complexity checks: aliases per
//! document (checked right after parsing, before any resolver runs) and operations per minute
//! per account and per client address (checked before a request is parsed at all).

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::atomic::{AtomicU32, Ordering},
};

use async_graphql::{
    Name, ServerResult,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};

use crate::error::AppError;

/// `extensions.reason` of a document with too many aliases.
pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node)
            }
            Selection::InlineFragment(fr) => count_aliases(&fr.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliased fields in a whole document: every operation and every fragment, counted once each
/// (a fragment spread many times is bounded by the depth and complexity limits).
pub fn aliases_in(doc: &ExecutableDocument) -> usize {
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count_aliases(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| count_aliases(&f.node.selection_set.node))
        .sum();
    ops + fragments
}

/// How deep `set` nests, through fragments; the introspection fields (`__schema`, `__type`)
/// are not counted with what is below them — their depth is the schema's, and the standard
/// introspection query (`getIntrospectionQuery()`, which every GraphQL tool sends) nests
/// fourteen levels through `ofType`.
fn depth(doc: &ExecutableDocument, set: &SelectionSet, seen: &mut Vec<Name>) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    1
                } else {
                    1 + depth(doc, &f.node.selection_set.node, seen)
                }
            }
            Selection::InlineFragment(fr) => depth(doc, &fr.node.selection_set.node, seen),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match doc.fragments.get(name) {
                    // A cycle is refused by validation; here it only must not loop.
                    Some(f) if !seen.contains(name) => {
                        seen.push(name.clone());
                        let d = depth(doc, &f.node.selection_set.node, seen);
                        seen.pop();
                        d
                    }
                    _ => 0,
                }
            }
        })
        .max()
        .unwrap_or(0)
}

/// Refuse a document whose operations nest deeper than `max` fields (introspection aside,
/// see `depth`): `BAD_USER_INPUT`, `GRAPHQL_VALIDATION_FAILED` (as async-graphql's own depth
/// limit was, with its English message), before any resolver runs.
pub fn check_depth(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    let deepest = doc
        .operations
        .iter()
        .map(|(_, op)| depth(doc, &op.node.selection_set.node, &mut Vec::new()))
        .max()
        .unwrap_or(0);
    if deepest > max {
        let mut err = crate::i18n::coded_error(
            msg!(
                "Query is nested too deep.",
                "查询嵌套层数过多（最多 {max} 层）"
            ),
            "BAD_USER_INPUT",
        );
        if let Some(ext) = err.extensions.as_mut() {
            ext.set("reason", crate::schema::VALIDATION_FAILED);
        }
        return Err(err);
    }
    Ok(())
}

/// Root fields of `set`, through fragments (each fragment expanded once per path).
fn root_fields(doc: &ExecutableDocument, set: &SelectionSet, seen: &mut Vec<Name>) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(fr) => root_fields(doc, &fr.node.selection_set.node, seen),
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                match doc.fragments.get(name) {
                    Some(f) if !seen.contains(name) => {
                        seen.push(name.clone());
                        let n = root_fields(doc, &f.node.selection_set.node, seen);
                        seen.pop();
                        n
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

/// The most mutation fields one operation of `doc` runs (`mutation { a: signUp … b: signUp … }`
/// is two): each writes, so each is charged as a request. Only one operation of a document
/// runs, so the largest counts.
pub fn mutation_fields(doc: &ExecutableDocument) -> usize {
    doc.operations
        .iter()
        .filter(|(_, op)| op.node.ty == OperationType::Mutation)
        .map(|(_, op)| root_fields(doc, &op.node.selection_set.node, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

/// Refuse a document with more than `max` aliased fields (`BAD_USER_INPUT`,
/// `TOO_MANY_ALIASES`), right after parsing and before any resolver runs.
pub fn check_aliases(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    let n = aliases_in(doc);
    if n > max {
        let mut err = crate::i18n::coded_error(
            msg!(
                "the document uses {n} aliases; at most {max} are allowed",
                "查询使用了 {n} 个别名，最多允许 {max} 个"
            ),
            "BAD_USER_INPUT",
        );
        if let Some(ext) = err.extensions.as_mut() {
            ext.set("reason", TOO_MANY_ALIASES);
        }
        return Err(err);
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(i64),
    Address(IpAddr),
}

type Limiter = RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock>;

/// Operations per minute per account and per client address (GCRA, a burst of the per-minute
/// budget). Per process, like the login throttle.
pub struct RequestLimiter {
    per_account: Limiter,
    per_address: Limiter,
    /// Checks so far, to look at the number of tracked keys only every so often.
    checks: AtomicU32,
}

/// Above this many tracked keys, forget those whose budget is full again.
const RETAIN_THRESHOLD: usize = 50_000;
/// How often (in checks) to count the tracked keys.
const RETAIN_CHECK_EVERY: u32 = 1024;

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

fn address_key(addr: IpAddr) -> Key {
    match addr {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            Key::Address(IpAddr::V6(Ipv6Addr::new(
                s[0], s[1], s[2], s[3], 0, 0, 0, 0,
            )))
        }
        IpAddr::V6(v6) => Key::Address(IpAddr::V4(
            v6.to_ipv4_mapped()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
        )),
        v4 => Key::Address(v4),
    }
}

impl RequestLimiter {
    /// Budgets per minute.
    pub fn new(per_account: u32, per_address: u32) -> Self {
        Self {
            per_account: RateLimiter::keyed(quota(per_account)),
            per_address: RateLimiter::keyed(quota(per_address)),
            checks: AtomicU32::new(0),
        }
    }

    /// Spend `operations` units of the account's and the address's budgets, or say how long to
    /// wait (`RATE_LIMITED`).
    pub fn check(
        &self,
        account: Option<i64>,
        address: Option<IpAddr>,
        operations: usize,
    ) -> Result<(), AppError> {
        let n = NonZeroU32::new(u32::try_from(operations).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        // Counting the keys walks every shard: only look now and then (once per request
        // counted, at both limiters).
        let prune = self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(RETAIN_CHECK_EVERY);
        let checks = [
            account.map(|a| (&self.per_account, Key::Account(a))),
            address.map(|a| (&self.per_address, address_key(a))),
        ];
        for (limiter, key) in checks.into_iter().flatten() {
            let limit = if matches!(key, Key::Account(_)) {
                "account"
            } else {
                "address"
            };
            match limiter.check_key_n(&key, n) {
                Ok(Ok(())) => {}
                Ok(Err(not_until)) => {
                    return Err(AppError::RateLimited {
                        limit,
                        retry_after_secs: not_until
                            .wait_time_from(limiter.clock().now())
                            .as_secs()
                            .max(1),
                    });
                }
                // More operations at once than the whole budget: never admissible.
                Err(_) => {
                    return Err(AppError::RateLimited {
                        limit,
                        retry_after_secs: 60,
                    });
                }
            }
            if prune && limiter.len() > RETAIN_THRESHOLD {
                limiter.retain_recent();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_fields_through_fragments_but_not_introspection() {
        let doc = async_graphql::parser::parse_query(
            "query { a { b { ...F } } } fragment F on B { c { d } ... on B { e { f { g } } } }",
        )
        .unwrap();
        assert!(check_depth(&doc, 5).is_ok());
        assert!(check_depth(&doc, 4).is_err());
        let introspection = async_graphql::parser::parse_query(
            "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } __type(name: \"X\") { name } }",
        )
        .unwrap();
        assert!(check_depth(&introspection, 2).is_ok());
        // A cycle (refused later by validation) does not loop here.
        let cyclic =
            async_graphql::parser::parse_query("{ a { ...F } } fragment F on A { b { ...F } }")
                .unwrap();
        assert!(check_depth(&cyclic, 10).is_ok());
    }

    #[test]
    fn mutation_fields_are_counted_through_fragments_for_the_largest_operation() {
        let doc = async_graphql::parser::parse_query(
            "mutation A { a: logout b: logout ...F ... on MutationRoot { c: logout } } \
             mutation B { logout } query Q { x: me { id } y: me { id } z: me { id } w: me { id } } \
             fragment F on MutationRoot { d: logout e: logout ...F }",
        )
        .unwrap();
        assert_eq!(mutation_fields(&doc), 5);
        let query = async_graphql::parser::parse_query("{ a: me { id } b: me { id } }").unwrap();
        assert_eq!(mutation_fields(&query), 0);
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: me { id } b: me { x: id } ...F } fragment F on Query { c: me { id } }",
        )
        .unwrap();
        assert_eq!(aliases_in(&doc), 4);
    }

    #[test]
    fn budgets_are_per_account_and_per_address() {
        let limiter = RequestLimiter::new(3, 5);
        let addr: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.check(Some(1), Some(addr), 3).unwrap();
        assert!(matches!(
            limiter.check(Some(1), Some(addr), 1),
            Err(AppError::RateLimited { .. })
        ));
        // Another account at the same address still has its own budget, within the address's.
        limiter.check(Some(2), Some(addr), 1).unwrap();
        assert!(
            limiter.check(Some(3), Some(addr), 2).is_err(),
            "address spent"
        );
        assert!(
            limiter
                .check(None, Some("10.0.0.2".parse().unwrap()), 5)
                .is_ok()
        );
        assert!(
            limiter
                .check(None, Some("10.0.0.3".parse().unwrap()), 6)
                .is_err()
        );
    }
}
