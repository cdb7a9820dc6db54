// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! AST objects decoded as OPA decodes them: Go's encoding/json into
//! gqlparser's structs. Decoded exactly where the object has the shape
//! OPA's own output has; where Go's decoder would do something this port
//! does not model (a key matched only case-insensitively, a validator
//! annotation such as `Definition`, selections of a query), it fails loudly.

use super::ast::*;
use super::GqlError;
use crate::value::Value as RValue;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value as J};

const MAX_DEPTH: usize = 128;

type R<T> = Result<T, GqlError>;

fn type_err(what: &str, got: &J) -> GqlError {
    let g = match got {
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
        J::Null => "null",
    };
    GqlError::decode(format!(
        "json: cannot unmarshal {g} into Go value of type {what}"
    ))
}

/// A struct's keys, checked: the known ones by exact name; a key equal to
/// a known one but for case is not modelled.
struct S<'a> {
    m: &'a Map<String, J>,
}

impl<'a> S<'a> {
    fn new(v: &'a J, what: &str, known: &[&str]) -> R<Option<Self>> {
        match v {
            J::Null => Ok(None),
            J::Object(m) => {
                for k in m.keys() {
                    if !known.contains(&k.as_str())
                        && known.iter().any(|n| n.eq_ignore_ascii_case(k))
                    {
                        return Err(GqlError::unsupported(&format!(
                            "AST key {k:?} (Go matches it case-insensitively)"
                        )));
                    }
                    if !k.is_ascii() && known.iter().any(|n| n.to_lowercase() == k.to_lowercase()) {
                        return Err(GqlError::unsupported("a non-ASCII AST key"));
                    }
                }
                Ok(Some(S { m }))
            }
            other => Err(type_err(what, other)),
        }
    }

    fn get(&self, k: &str) -> Option<&'a J> {
        self.m.get(k).filter(|v| !v.is_null())
    }

    fn string(&self, k: &str) -> R<String> {
        match self.get(k) {
            None => Ok(String::new()),
            Some(J::String(s)) => Ok(s.clone()),
            Some(o) => Err(type_err("string", o)),
        }
    }

    fn boolean(&self, k: &str) -> R<bool> {
        match self.get(k) {
            None => Ok(false),
            Some(J::Bool(b)) => Ok(*b),
            Some(o) => Err(type_err("bool", o)),
        }
    }

    fn strings(&self, k: &str) -> R<Vec<String>> {
        self.list(k, |v| match v {
            J::String(s) => Ok(s.clone()),
            // A null element of []string decodes as "".
            J::Null => Ok(String::new()),
            o => Err(type_err("string", o)),
        })
    }

    fn list<T>(&self, k: &str, f: impl Fn(&J) -> R<T>) -> R<Vec<T>> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(J::Array(a)) => a.iter().map(f).collect(),
            Some(o) => Err(type_err("slice", o)),
        }
    }

    /// Elements that are pointers to structs: a null element is a nil
    /// pointer, which gqlparser would dereference.
    fn ptr_list<T>(&self, k: &str, f: impl Fn(&J) -> R<T>) -> R<Vec<T>> {
        self.list(k, |v| {
            if v.is_null() {
                return Err(GqlError::unsupported("a null element in an AST list"));
            }
            f(v)
        })
    }

    fn none(&self, keys: &[&str]) -> R<()> {
        for k in keys {
            if self.get(k).is_some() {
                return Err(GqlError::unsupported(&format!("the AST key {k:?}")));
            }
        }
        Ok(())
    }

    fn comments(&self, k: &str) -> R<Comments> {
        let Some(v) = self.get(k) else {
            return Ok(Vec::new());
        };
        let Some(g) = S::new(v, "ast.CommentGroup", &["List"])? else {
            return Ok(Vec::new());
        };
        g.ptr_list("List", |c| {
            let Some(c) = S::new(c, "ast.Comment", &["Value", "Position"])? else {
                return Ok(String::new());
            };
            c.string("Value")
        })
    }
}

fn value(v: &J, depth: usize) -> R<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(GqlError::unsupported("AST values nested over 128 levels"));
    }
    let Some(s) = S::new(
        v,
        "ast.Value",
        &[
            "Raw",
            "Children",
            "Kind",
            "Position",
            "Comment",
            "Definition",
            "VariableDefinition",
            "ExpectedType",
            "ExpectedTypeHasDefault",
        ],
    )?
    else {
        return Ok(None);
    };
    s.none(&["Definition", "VariableDefinition", "ExpectedType"])?;
    let kind = match s.get("Kind") {
        None => 0,
        Some(J::Number(n)) => match n.as_i64() {
            Some(k) if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&k) => k,
            _ => {
                return Err(GqlError::unsupported(
                    "a Value Kind that is not a small integer",
                ))
            }
        },
        Some(o) => return Err(type_err("ast.ValueKind", o)),
    };
    Ok(Some(Value {
        raw: s.string("Raw")?,
        children: s.ptr_list("Children", |c| {
            let Some(c) = S::new(
                c,
                "ast.ChildValue",
                &["Name", "Value", "Position", "Comment"],
            )?
            else {
                return Ok(ChildValue::default());
            };
            Ok(ChildValue {
                name: c.string("Name")?,
                value: match c.get("Value") {
                    Some(v) => value(v, depth + 1)?.map(Box::new),
                    None => None,
                },
                pos: None,
                comment: c.comments("Comment")?,
            })
        })?,
        kind,
        pos: None,
        comment: s.comments("Comment")?,
        expected_type_has_default: s.boolean("ExpectedTypeHasDefault")?,
    }))
}

fn opt_value(s: &S, k: &str) -> R<Option<Value>> {
    match s.get(k) {
        Some(v) => value(v, 0),
        None => Ok(None),
    }
}

fn ty(v: &J, depth: usize) -> R<Option<Type>> {
    if depth > MAX_DEPTH {
        return Err(GqlError::unsupported("AST types nested over 128 levels"));
    }
    let Some(s) = S::new(v, "ast.Type", &["NamedType", "Elem", "NonNull", "Position"])? else {
        return Ok(None);
    };
    Ok(Some(Type {
        named: s.string("NamedType")?,
        elem: match s.get("Elem") {
            Some(e) => ty(e, depth + 1)?.map(Box::new),
            None => None,
        },
        non_null: s.boolean("NonNull")?,
        pos: None,
    }))
}

fn opt_ty(s: &S, k: &str) -> R<Option<Type>> {
    match s.get(k) {
        Some(v) => ty(v, 0),
        None => Ok(None),
    }
}

fn argument(v: &J) -> R<Argument> {
    let Some(s) = S::new(v, "ast.Argument", &["Name", "Value", "Position", "Comment"])? else {
        return Ok(Argument::default());
    };
    Ok(Argument {
        name: s.string("Name")?,
        value: opt_value(&s, "Value")?,
        pos: None,
        comment: s.comments("Comment")?,
    })
}

fn directive(v: &J) -> R<Directive> {
    let Some(s) = S::new(
        v,
        "ast.Directive",
        &[
            "Name",
            "Arguments",
            "Position",
            "ParentDefinition",
            "Definition",
            "Location",
        ],
    )?
    else {
        return Ok(Directive::default());
    };
    s.none(&["ParentDefinition", "Definition"])?;
    Ok(Directive {
        name: s.string("Name")?,
        arguments: s.ptr_list("Arguments", argument)?,
        pos: None,
        location: s.string("Location")?,
    })
}

fn argument_definition(v: &J) -> R<ArgumentDefinition> {
    let Some(s) = S::new(
        v,
        "ast.ArgumentDefinition",
        &[
            "Description",
            "Name",
            "DefaultValue",
            "Type",
            "Directives",
            "Position",
            "BeforeDescriptionComment",
            "AfterDescriptionComment",
        ],
    )?
    else {
        return Ok(ArgumentDefinition::default());
    };
    Ok(ArgumentDefinition {
        description: s.string("Description")?,
        name: s.string("Name")?,
        default_value: opt_value(&s, "DefaultValue")?,
        ty: opt_ty(&s, "Type")?,
        directives: s.ptr_list("Directives", directive)?,
        pos: None,
        before_description_comment: s.comments("BeforeDescriptionComment")?,
        after_description_comment: s.comments("AfterDescriptionComment")?,
    })
}

fn field_definition(v: &J) -> R<FieldDefinition> {
    let Some(s) = S::new(
        v,
        "ast.FieldDefinition",
        &[
            "Description",
            "Name",
            "Arguments",
            "DefaultValue",
            "Type",
            "Directives",
            "Position",
            "BeforeDescriptionComment",
            "AfterDescriptionComment",
        ],
    )?
    else {
        return Ok(FieldDefinition::default());
    };
    Ok(FieldDefinition {
        description: s.string("Description")?,
        name: s.string("Name")?,
        arguments: s.ptr_list("Arguments", argument_definition)?,
        default_value: opt_value(&s, "DefaultValue")?,
        ty: opt_ty(&s, "Type")?,
        directives: s.ptr_list("Directives", directive)?,
        pos: None,
        before_description_comment: s.comments("BeforeDescriptionComment")?,
        after_description_comment: s.comments("AfterDescriptionComment")?,
    })
}

fn definition(v: &J) -> R<Definition> {
    let Some(s) = S::new(
        v,
        "ast.Definition",
        &[
            "Kind",
            "Description",
            "Name",
            "Directives",
            "Interfaces",
            "Fields",
            "Types",
            "EnumValues",
            "Position",
            "BuiltIn",
            "BeforeDescriptionComment",
            "AfterDescriptionComment",
            "EndOfDefinitionComment",
        ],
    )?
    else {
        return Ok(Definition::default());
    };
    Ok(Definition {
        kind: s.string("Kind")?,
        description: s.string("Description")?,
        name: s.string("Name")?,
        directives: s.ptr_list("Directives", directive)?,
        interfaces: s.strings("Interfaces")?,
        fields: s.ptr_list("Fields", field_definition)?,
        types: s.strings("Types")?,
        enum_values: s.ptr_list("EnumValues", |e| {
            let Some(e) = S::new(
                e,
                "ast.EnumValueDefinition",
                &[
                    "Description",
                    "Name",
                    "Directives",
                    "Position",
                    "BeforeDescriptionComment",
                    "AfterDescriptionComment",
                ],
            )?
            else {
                return Ok(EnumValueDefinition::default());
            };
            Ok(EnumValueDefinition {
                description: e.string("Description")?,
                name: e.string("Name")?,
                directives: e.ptr_list("Directives", directive)?,
                pos: None,
                before_description_comment: e.comments("BeforeDescriptionComment")?,
                after_description_comment: e.comments("AfterDescriptionComment")?,
            })
        })?,
        pos: None,
        type_positions: Vec::new(),
        builtin: s.boolean("BuiltIn")?,
        before_description_comment: s.comments("BeforeDescriptionComment")?,
        after_description_comment: s.comments("AfterDescriptionComment")?,
        end_of_definition_comment: s.comments("EndOfDefinitionComment")?,
    })
}

fn schema_definition(v: &J) -> R<SchemaDefinition> {
    let Some(s) = S::new(
        v,
        "ast.SchemaDefinition",
        &[
            "Description",
            "Directives",
            "OperationTypes",
            "Position",
            "BeforeDescriptionComment",
            "AfterDescriptionComment",
            "EndOfDefinitionComment",
        ],
    )?
    else {
        return Ok(SchemaDefinition::default());
    };
    Ok(SchemaDefinition {
        description: s.string("Description")?,
        directives: s.ptr_list("Directives", directive)?,
        operation_types: s.ptr_list("OperationTypes", |o| {
            let Some(o) = S::new(
                o,
                "ast.OperationTypeDefinition",
                &["Operation", "Type", "Position", "Comment"],
            )?
            else {
                return Ok(OperationTypeDefinition::default());
            };
            Ok(OperationTypeDefinition {
                operation: o.string("Operation")?,
                ty: o.string("Type")?,
                pos: None,
                comment: o.comments("Comment")?,
            })
        })?,
        pos: None,
        before_description_comment: s.comments("BeforeDescriptionComment")?,
        after_description_comment: s.comments("AfterDescriptionComment")?,
        end_of_definition_comment: s.comments("EndOfDefinitionComment")?,
    })
}

fn to_json(v: &RValue) -> R<J> {
    serde_json::to_value(v).map_err(|_| GqlError::unsupported("an AST object that is not JSON"))
}

pub fn schema_document(v: &RValue) -> R<SchemaDocument> {
    let j = to_json(v)?;
    let Some(s) = S::new(
        &j,
        "ast.SchemaDocument",
        &[
            "Schema",
            "SchemaExtension",
            "Directives",
            "Definitions",
            "Extensions",
            "Position",
            "Comment",
        ],
    )?
    else {
        return Ok(SchemaDocument::default());
    };
    Ok(SchemaDocument {
        schema: s.ptr_list("Schema", schema_definition)?,
        schema_extension: s.ptr_list("SchemaExtension", schema_definition)?,
        directives: s.ptr_list("Directives", |d| {
            let Some(d) = S::new(
                d,
                "ast.DirectiveDefinition",
                &[
                    "Description",
                    "Name",
                    "Arguments",
                    "Locations",
                    "IsRepeatable",
                    "Position",
                    "BeforeDescriptionComment",
                    "AfterDescriptionComment",
                ],
            )?
            else {
                return Ok(DirectiveDefinition::default());
            };
            Ok(DirectiveDefinition {
                description: d.string("Description")?,
                name: d.string("Name")?,
                arguments: d.ptr_list("Arguments", argument_definition)?,
                locations: d.strings("Locations")?,
                is_repeatable: d.boolean("IsRepeatable")?,
                pos: None,
                before_description_comment: d.comments("BeforeDescriptionComment")?,
                after_description_comment: d.comments("AfterDescriptionComment")?,
            })
        })?,
        definitions: s.ptr_list("Definitions", definition)?,
        extensions: s.ptr_list("Extensions", definition)?,
        comment: s.comments("Comment")?,
    })
}

/// A struct gqlparser decodes with its own UnmarshalJSON: the object's
/// keys matched exactly, other keys ignored.
struct C<'a> {
    m: &'a Map<String, J>,
}

impl<'a> C<'a> {
    /// Go's `json.Unmarshal(b, &map[string]json.RawMessage)`: null is an
    /// empty map.
    fn new(v: &'a J, what: &str) -> R<Option<Self>> {
        match v {
            J::Null => Ok(None),
            J::Object(m) => Ok(Some(C { m })),
            other => Err(type_err(what, other)),
        }
    }

    fn get(&self, k: &str) -> Option<&'a J> {
        self.m.get(k).filter(|v| !v.is_null())
    }

    fn string(&self, k: &str) -> R<String> {
        match self.get(k) {
            None => Ok(String::new()),
            Some(J::String(s)) => Ok(s.clone()),
            Some(o) => Err(type_err("string", o)),
        }
    }

    fn list<T>(&self, k: &str, f: impl Fn(&J) -> R<T>) -> R<Vec<T>> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(J::Array(a)) => a
                .iter()
                .map(|v| {
                    if v.is_null() {
                        return Err(GqlError::unsupported("a null element in an AST list"));
                    }
                    f(v)
                })
                .collect(),
            Some(o) => Err(type_err("slice", o)),
        }
    }

    /// Keys whose value this port does not model (positions, which would
    /// change messages; validator annotations, which the walker reads).
    fn none(&self, keys: &[&str]) -> R<()> {
        for k in keys {
            if self.get(k).is_some() {
                return Err(GqlError::unsupported(&format!("the AST key {k:?}")));
            }
        }
        Ok(())
    }
}

/// A type gqlparser's walker would call `String()` on and panic.
fn check_type(t: &Type, depth: usize) -> R<()> {
    if depth > MAX_DEPTH {
        return Err(GqlError::unsupported("AST types nested over 128 levels"));
    }
    match &t.elem {
        Some(e) => check_type(e, depth + 1),
        None if t.named.is_empty() => Err(GqlError::unsupported(
            "an AST type with neither a name nor an element",
        )),
        None => Ok(()),
    }
}

fn variable_definition(v: &J) -> R<VariableDefinition> {
    let Some(s) = S::new(
        v,
        "ast.VariableDefinition",
        &[
            "Variable",
            "Type",
            "DefaultValue",
            "Directives",
            "Position",
            "Comment",
            "Definition",
            "Used",
        ],
    )?
    else {
        return Ok(VariableDefinition::default());
    };
    s.none(&["Definition"])?;
    let t = opt_ty(&s, "Type")?;
    if let Some(t) = &t {
        check_type(t, 0)?;
    }
    Ok(VariableDefinition {
        variable: s.string("Variable")?,
        ty: t,
        default_value: opt_value(&s, "DefaultValue")?,
        directives: s.ptr_list("Directives", directive)?,
        pos: None,
        comment: s.comments("Comment")?,
        used: s.boolean("Used")?,
    })
}

/// ast.UnmarshalSelectionSet: each element tried as a Field (which accepts
/// nearly any object), then as a FragmentSpread, then as an
/// InlineFragment; an element none of them accepts is dropped.
fn selection_set(v: &J, depth: usize) -> R<Vec<Selection>> {
    if depth > MAX_DEPTH {
        return Err(GqlError::unsupported(
            "AST selection sets nested over 128 levels",
        ));
    }
    let items = match v {
        J::Null => return Ok(Vec::new()),
        J::Array(a) => a,
        o => return Err(type_err("[]json.RawMessage", o)),
    };
    let mut out = Vec::new();
    for item in items {
        let attempts: [&dyn Fn(&J) -> R<Selection>; 3] =
            [&|i| field(i, depth), &fragment_spread, &|i| {
                inline_fragment(i, depth)
            }];
        for attempt in attempts {
            match attempt(item) {
                Ok(s) => {
                    out.push(s);
                    break;
                }
                Err(e) if e.unsupported => return Err(e),
                Err(_) => {}
            }
        }
    }
    Ok(out)
}

fn field(v: &J, depth: usize) -> R<Selection> {
    let Some(c) = C::new(v, "map[string]json.RawMessage")? else {
        return Ok(Selection::Field(Field::default()));
    };
    c.none(&["Position", "Definition", "ObjectDefinition"])?;
    Ok(Selection::Field(Field {
        alias: c.string("Alias")?,
        name: c.string("Name")?,
        arguments: c.list("Arguments", argument)?,
        directives: c.list("Directives", directive)?,
        selection_set: match c.get("SelectionSet") {
            Some(ss) => selection_set(ss, depth + 1)?,
            None => Vec::new(),
        },
        pos: None,
        comment: Vec::new(),
    }))
}

fn fragment_spread(v: &J) -> R<Selection> {
    let Some(s) = S::new(
        v,
        "ast.FragmentSpread",
        &[
            "Name",
            "Directives",
            "ObjectDefinition",
            "Definition",
            "Position",
            "Comment",
        ],
    )?
    else {
        return Ok(Selection::Spread(FragmentSpread::default()));
    };
    s.none(&["ObjectDefinition", "Definition"])?;
    Ok(Selection::Spread(FragmentSpread {
        name: s.string("Name")?,
        directives: s.ptr_list("Directives", directive)?,
        pos: None,
        comment: s.comments("Comment")?,
    }))
}

fn inline_fragment(v: &J, depth: usize) -> R<Selection> {
    let Some(c) = C::new(v, "map[string]json.RawMessage")? else {
        return Ok(Selection::Inline(InlineFragment::default()));
    };
    c.none(&["Position", "ObjectDefinition"])?;
    Ok(Selection::Inline(InlineFragment {
        type_condition: c.string("TypeCondition")?,
        directives: c.list("Directives", directive)?,
        selection_set: match c.get("SelectionSet") {
            Some(ss) => selection_set(ss, depth + 1)?,
            None => Vec::new(),
        },
        pos: None,
        comment: Vec::new(),
    }))
}

fn operation(v: &J) -> R<OperationDefinition> {
    let Some(c) = C::new(v, "map[string]json.RawMessage")? else {
        return Ok(OperationDefinition::default());
    };
    c.none(&["Position"])?;
    Ok(OperationDefinition {
        operation: c.string("Operation")?,
        name: c.string("Name")?,
        variable_definitions: c.list("VariableDefinitions", variable_definition)?,
        directives: c.list("Directives", directive)?,
        selection_set: match c.get("SelectionSet") {
            Some(ss) => selection_set(ss, 0)?,
            None => Vec::new(),
        },
        pos: None,
        comment: Vec::new(),
    })
}

fn fragment_definition(v: &J) -> R<FragmentDefinition> {
    let Some(c) = C::new(v, "map[string]json.RawMessage")? else {
        return Ok(FragmentDefinition::default());
    };
    c.none(&["Position", "Definition"])?;
    Ok(FragmentDefinition {
        name: c.string("Name")?,
        variable_definition: c.list("VariableDefinition", variable_definition)?,
        type_condition: c.string("TypeCondition")?,
        directives: c.list("Directives", directive)?,
        selection_set: match c.get("SelectionSet") {
            Some(ss) => selection_set(ss, 0)?,
            None => Vec::new(),
        },
        pos: None,
        comment: Vec::new(),
    })
}

/// A query AST object, decoded as Go's encoding/json decodes it into
/// gqlparser's QueryDocument (whose operations, fragments, fields and
/// inline fragments have their own UnmarshalJSON: exact keys, the others
/// ignored, `Comment` dropped).
pub fn query_document(v: &RValue) -> R<QueryDocument> {
    let j = to_json(v)?;
    let Some(s) = S::new(
        &j,
        "ast.QueryDocument",
        &["Operations", "Fragments", "Position", "Comment"],
    )?
    else {
        return Ok(QueryDocument::default());
    };
    Ok(QueryDocument {
        operations: s.ptr_list("Operations", operation)?,
        fragments: s.ptr_list("Fragments", fragment_definition)?,
        comment: s.comments("Comment")?,
    })
}
