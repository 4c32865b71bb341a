//! Objects answered from their row alone, written straight into the response.
//!
//! async-graphql resolves every field of every object as its own boxed future, with its own
//! context and path, joined through a `FuturesUnordered`: about half of the server's time on a
//! list of 50 shifts with their events (700 fields) went there, for fields that only copy a
//! column. A type that implements [`Direct`] says which of its fields are such copies (and
//! which relations it already holds, fetched with it); a list of it returns [`Fast<T>`], which
//! writes a node whose whole selection is made of those fields in one synchronous pass.
//!
//! Any other selection — a field with arguments, one that needs the context (a check, a
//! statement, the caller), a custom directive — resolves the node through async-graphql as
//! before, so the fast path can only be taken where it cannot differ. The differential test in
//! `tests/it/query_shapes.rs` compares both paths ([`crate::batch::PerField`] turns this one
//! off too).

use std::borrow::Cow;

use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
    futures_util::future::{BoxFuture, join_all},
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::ContainerType,
};

/// How a [`Direct`] type answers one field.
pub enum Answer<'a> {
    /// A value read from the row, exactly as the field's resolver would return it.
    Value(Value),
    /// A related object fetched with the row (visibility already applied).
    Object(&'a dyn Direct),
    /// The field needs its resolver.
    Resolver,
}

/// A GraphQL object some of whose fields are plain reads of what it holds.
///
/// A field may be answered here only if its resolver takes no argument and no context: no
/// access check, no statement, nothing about the caller. A field that gains a guard must be
/// dropped from [`Direct::answer`].
pub trait Direct: ResolveField + Send + Sync {
    /// The GraphQL type name (for `__typename` and fragment type conditions).
    fn graphql_type(&self) -> &'static str;

    /// How to answer the field called `field`.
    fn answer(&self, field: &str) -> Answer<'_>;
}

/// A field through the object's own resolver, boxed so that a `dyn Direct` can run it.
pub trait ResolveField {
    /// [`ContainerType::resolve_field`].
    fn resolve_field_boxed<'a>(
        &'a self,
        ctx: &'a Context<'a>,
    ) -> BoxFuture<'a, ServerResult<Option<Value>>>;
}

impl<T: ContainerType> ResolveField for T {
    fn resolve_field_boxed<'a>(
        &'a self,
        ctx: &'a Context<'a>,
    ) -> BoxFuture<'a, ServerResult<Option<Value>>> {
        Box::pin(self.resolve_field(ctx))
    }
}

/// Shorthand for [`Answer::Value`] of anything async-graphql writes as a scalar or enum.
pub fn value<T: async_graphql::InputType>(v: &T) -> Answer<'static> {
    Answer::Value(v.to_value())
}

/// A node of a list that writes its plain fields directly (see the module documentation); the
/// same GraphQL type as `T`.
pub struct Fast<T>(pub T);

impl<T: OutputType + Direct> OutputType for Fast<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if ctx.data_opt::<crate::batch::PerField>().is_none()
            && let Some(v) = resolve(&self.0, ctx).await
        {
            return Ok(v);
        }
        self.0.resolve(ctx, field).await
    }
}

/// A field left to its resolver: where its value goes and the future that makes it.
struct Pending<'a> {
    /// Response keys from the node down to the object the value belongs in.
    path: Vec<Name>,
    key: Name,
    fut: BoxFuture<'a, ServerResult<Option<Value>>>,
}

/// The object's answer to the selection set, or `None` if a custom directive asks for
/// async-graphql's own path.
pub async fn resolve<'a>(obj: &'a dyn Direct, ctx: &ContextSelectionSet<'a>) -> Option<Value> {
    let mut out = IndexMap::new();
    let mut pending = Vec::new();
    let mut walk = Walk {
        ctx,
        chain: Vec::new(),
        path: Vec::new(),
        pending: &mut pending,
    };
    walk.set(obj, ctx.item, &mut out)?;
    if !pending.is_empty() {
        let results = join_all(pending.iter_mut().map(|p| &mut p.fut)).await;
        for (p, result) in pending.iter().zip(results) {
            let Some(target) = descend(&mut out, &p.path) else {
                continue;
            };
            match result {
                Ok(v) => merge(target, p.key.clone(), v.unwrap_or_default(), true),
                Err(e) => {
                    ctx.add_error(e);
                    if matches!(target.get(&p.key), Some(Value::Null)) {
                        target.shift_remove(&p.key);
                    }
                }
            }
        }
    }
    Some(if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    })
}

/// One pass over a node's selection, writing what the rows answer and queuing the rest.
struct Walk<'a, 'w> {
    /// The node's context: fragments, the schema, and the root of every path.
    ctx: &'w ContextSelectionSet<'a>,
    /// The fields from the node down to the object being written.
    chain: Vec<&'a Positioned<Field>>,
    /// Their response keys.
    path: Vec<Name>,
    pending: &'w mut Vec<Pending<'a>>,
}

impl<'a> Walk<'a, '_> {
    fn set(
        &mut self,
        obj: &'a dyn Direct,
        set: &'a Positioned<SelectionSet>,
        out: &mut IndexMap<Name, Value>,
    ) -> Option<()> {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    // `@skip`/`@include` are gone by now; any other directive is custom.
                    if !field.node.directives.is_empty() {
                        return None;
                    }
                    let key = field.node.response_key().node.clone();
                    let answer = match field.node.name.node.as_str() {
                        "__typename" => Answer::Value(Value::String(obj.graphql_type().to_owned())),
                        _ if !field.node.arguments.is_empty() => Answer::Resolver,
                        name => obj.answer(name),
                    };
                    match answer {
                        Answer::Value(v) => merge(out, key, v, false),
                        Answer::Object(related) => {
                            let mut inner = match out.get_mut(&key) {
                                // asked for again: the two selections merge
                                Some(Value::Object(m)) => std::mem::take(m),
                                Some(_) => continue,
                                None => {
                                    out.insert(key.clone(), Value::Null);
                                    IndexMap::new()
                                }
                            };
                            self.chain.push(field);
                            self.path.push(key.clone());
                            let done = self.set(related, &field.node.selection_set, &mut inner);
                            self.chain.pop();
                            self.path.pop();
                            done?;
                            out.insert(key, Value::Object(inner));
                        }
                        Answer::Resolver => {
                            out.entry(key.clone()).or_insert(Value::Null);
                            self.pending.push(Pending {
                                path: self.path.clone(),
                                key,
                                fut: resolve_in(self.ctx.clone(), self.chain.clone(), field, obj),
                            });
                        }
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self
                        .ctx
                        .query_env
                        .fragments
                        .get(&spread.node.fragment_name.node)?;
                    if applies(obj, self.ctx, &fragment.node.type_condition.node.on.node) {
                        self.set(obj, &fragment.node.selection_set, out)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let condition = fragment.node.type_condition.as_ref();
                    if condition.is_none_or(|c| applies(obj, self.ctx, &c.node.on.node)) {
                        self.set(obj, &fragment.node.selection_set, out)?;
                    }
                }
            }
        }
        Some(())
    }
}

/// Run `field`'s resolver on `obj`, in the context async-graphql would give it: the node's,
/// then one level per field of `chain` (so errors carry the same path).
fn resolve_in<'a>(
    node: ContextSelectionSet<'a>,
    chain: Vec<&'a Positioned<Field>>,
    field: &'a Positioned<Field>,
    obj: &'a dyn Direct,
) -> BoxFuture<'a, ServerResult<Option<Value>>> {
    Box::pin(async move { resolve_below(&node, &chain, field, obj).await })
}

fn resolve_below<'c>(
    ctx: &'c ContextSelectionSet<'c>,
    chain: &'c [&'c Positioned<Field>],
    field: &'c Positioned<Field>,
    obj: &'c dyn Direct,
) -> BoxFuture<'c, ServerResult<Option<Value>>> {
    Box::pin(async move {
        match chain.split_first() {
            None => {
                let ctx_field = ctx.with_field(field);
                obj.resolve_field_boxed(&ctx_field).await
            }
            Some((first, rest)) => {
                let ctx_first = ctx.with_field(first);
                let below = ctx_first.with_selection_set(&first.node.selection_set);
                resolve_below(&below, rest, field, obj).await
            }
        }
    })
}

/// The object at `path` below `out`.
fn descend<'m>(
    mut out: &'m mut IndexMap<Name, Value>,
    path: &[Name],
) -> Option<&'m mut IndexMap<Name, Value>> {
    for key in path {
        match out.get_mut(key)? {
            Value::Object(m) => out = m,
            _ => return None,
        }
    }
    Some(out)
}

/// Whether a fragment on `condition` applies to the object: its own type or an interface it
/// implements (as async-graphql decides it).
fn applies(obj: &dyn Direct, ctx: &ContextSelectionSet<'_>, condition: &str) -> bool {
    let ty = obj.graphql_type();
    ty == condition
        || ctx
            .schema_env
            .registry
            .implements
            .get(ty)
            .is_some_and(|interfaces| interfaces.contains(condition))
}

/// The same response key twice (`event { title } event { address }`, or through fragments):
/// objects merge, in the order their keys first appeared; otherwise the first value stays,
/// unless `replace` (a resolver's value taking its placeholder).
fn merge(out: &mut IndexMap<Name, Value>, key: Name, value: Value, replace: bool) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(more)) => {
            for (k, v) in more {
                merge(existing, k, v, replace);
            }
        }
        (Some(slot), value) => {
            if replace {
                *slot = value;
            }
        }
        (None, value) => {
            out.insert(key, value);
        }
    }
}
