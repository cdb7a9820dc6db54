// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! gqlparser v2.5.58's AST (`ast` package), with what its JSON encoding
//! writes. Positions are kept for error messages and never written (OPA
//! prunes them).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value as J};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: i64,
    pub column: i64,
    /// In the prelude (file `prelude.graphql`), not in the input.
    pub builtin: bool,
}

/// A comment group: the comments' texts; empty is Go's nil.
pub type Comments = Vec<String>;

pub const KIND_VARIABLE: i64 = 0;
pub const KIND_INT: i64 = 1;
pub const KIND_FLOAT: i64 = 2;
pub const KIND_STRING: i64 = 3;
pub const KIND_BLOCK: i64 = 4;
pub const KIND_BOOLEAN: i64 = 5;
pub const KIND_NULL: i64 = 6;
pub const KIND_ENUM: i64 = 7;
pub const KIND_LIST: i64 = 8;
pub const KIND_OBJECT: i64 = 9;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Value {
    pub raw: String,
    pub children: Vec<ChildValue>,
    pub kind: i64,
    pub pos: Option<Pos>,
    pub comment: Comments,
    /// Set only by decoding an AST object (the validator sets it after
    /// OPA has written the AST).
    pub expected_type_has_default: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChildValue {
    pub name: String,
    pub value: Option<Box<Value>>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Type {
    pub named: String,
    pub elem: Option<Box<Type>>,
    pub non_null: bool,
    pub pos: Option<Pos>,
}

impl Type {
    /// `Type.Name()`: the innermost named type.
    pub fn name(&self) -> &str {
        let mut t = self;
        loop {
            if !t.named.is_empty() {
                return &t.named;
            }
            match &t.elem {
                Some(e) => t = e,
                None => return "",
            }
        }
    }

    /// `Type.String()`.
    pub fn to_gql_string(&self) -> String {
        let nn = if self.non_null { "!" } else { "" };
        if !self.named.is_empty() {
            return alloc::format!("{}{}", self.named, nn);
        }
        let inner = self
            .elem
            .as_ref()
            .map(|e| e.to_gql_string())
            .unwrap_or_default();
        alloc::format!("[{inner}]{nn}")
    }

    pub fn named(name: &str, non_null: bool) -> Type {
        Type {
            named: name.into(),
            elem: None,
            non_null,
            pos: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Argument {
    pub name: String,
    pub value: Option<Value>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Directive {
    pub name: String,
    pub arguments: Vec<Argument>,
    pub pos: Option<Pos>,
    pub location: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Field {
    pub alias: String,
    pub name: String,
    pub arguments: Vec<Argument>,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FragmentSpread {
    pub name: String,
    pub directives: Vec<Directive>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InlineFragment {
    pub type_condition: String,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    Field(Field),
    Spread(FragmentSpread),
    Inline(InlineFragment),
}

#[derive(Clone, Debug, Default)]
pub struct VariableDefinition {
    pub variable: String,
    pub ty: Option<Type>,
    pub default_value: Option<Value>,
    pub directives: Vec<Directive>,
    pub pos: Option<Pos>,
    pub comment: Comments,
    /// Set only by decoding an AST object (the validator sets it after
    /// OPA has written the AST, and never clears it).
    pub used: bool,
}

#[derive(Clone, Debug, Default)]
pub struct OperationDefinition {
    pub operation: String,
    pub name: String,
    pub variable_definitions: Vec<VariableDefinition>,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct FragmentDefinition {
    pub name: String,
    pub variable_definition: Vec<VariableDefinition>,
    pub type_condition: String,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct QueryDocument {
    pub operations: Vec<OperationDefinition>,
    pub fragments: Vec<FragmentDefinition>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct OperationTypeDefinition {
    pub operation: String,
    pub ty: String,
    pub pos: Option<Pos>,
    pub comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct SchemaDefinition {
    pub description: String,
    pub directives: Vec<Directive>,
    pub operation_types: Vec<OperationTypeDefinition>,
    pub pos: Option<Pos>,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
    pub end_of_definition_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct FieldDefinition {
    pub description: String,
    pub name: String,
    pub arguments: Vec<ArgumentDefinition>,
    pub default_value: Option<Value>,
    pub ty: Option<Type>,
    pub directives: Vec<Directive>,
    pub pos: Option<Pos>,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct ArgumentDefinition {
    pub description: String,
    pub name: String,
    pub default_value: Option<Value>,
    pub ty: Option<Type>,
    pub directives: Vec<Directive>,
    pub pos: Option<Pos>,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct EnumValueDefinition {
    pub description: String,
    pub name: String,
    pub directives: Vec<Directive>,
    pub pos: Option<Pos>,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct DirectiveDefinition {
    pub description: String,
    pub name: String,
    pub arguments: Vec<ArgumentDefinition>,
    pub locations: Vec<String>,
    pub is_repeatable: bool,
    pub pos: Option<Pos>,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct Definition {
    pub kind: String,
    pub description: String,
    pub name: String,
    pub directives: Vec<Directive>,
    pub interfaces: Vec<String>,
    pub fields: Vec<FieldDefinition>,
    pub types: Vec<String>,
    pub enum_values: Vec<EnumValueDefinition>,
    pub pos: Option<Pos>,
    pub type_positions: Vec<Option<Pos>>,
    pub builtin: bool,
    pub before_description_comment: Comments,
    pub after_description_comment: Comments,
    pub end_of_definition_comment: Comments,
}

#[derive(Clone, Debug, Default)]
pub struct SchemaDocument {
    pub schema: Vec<SchemaDefinition>,
    pub schema_extension: Vec<SchemaDefinition>,
    pub directives: Vec<DirectiveDefinition>,
    pub definitions: Vec<Definition>,
    pub extensions: Vec<Definition>,
    pub comment: Comments,
}

// ------------------------------------------------------------ JSON (as OPA)
//
// Written as Go's encoding/json writes the structs, then pruned as OPA's
// pruneIrrelevantGraphQLASTNodes does: no nulls, no empty arrays or objects
// (after pruning), no "Position". Nil pointers are written as nulls and so
// disappear; they are simply not written here.

struct O(Map<String, J>);

impl O {
    fn new() -> Self {
        O(Map::new())
    }
    fn s(mut self, k: &str, v: &str) -> Self {
        self.0.insert(k.into(), J::String(v.into()));
        self
    }
    fn b(mut self, k: &str, v: bool) -> Self {
        self.0.insert(k.into(), J::Bool(v));
        self
    }
    fn n(mut self, k: &str, v: i64) -> Self {
        self.0.insert(k.into(), J::from(v));
        self
    }
    /// A pruned child: kept only when not empty.
    fn j(mut self, k: &str, v: J) -> Self {
        let keep = match &v {
            J::Null => false,
            J::Array(a) => !a.is_empty(),
            J::Object(o) => !o.is_empty(),
            _ => true,
        };
        if keep {
            self.0.insert(k.into(), v);
        }
        self
    }
    fn c(self, k: &str, v: &Comments) -> Self {
        self.j(k, comments_json(v))
    }
    fn done(self) -> J {
        J::Object(self.0)
    }
}

fn arr<T>(items: &[T], f: impl Fn(&T) -> J) -> J {
    J::Array(
        items
            .iter()
            .map(f)
            .filter(|v| match v {
                J::Null => false,
                J::Array(a) => !a.is_empty(),
                J::Object(o) => !o.is_empty(),
                _ => true,
            })
            .collect(),
    )
}

fn strs(items: &[String]) -> J {
    J::Array(items.iter().map(|s| J::String(s.clone())).collect())
}

fn comments_json(c: &Comments) -> J {
    O::new()
        .j("List", arr(c, |t| O::new().s("Value", t).done()))
        .done()
}

pub fn value_json(v: &Value) -> J {
    O::new()
        .s("Raw", &v.raw)
        .j("Children", arr(&v.children, child_json))
        .n("Kind", v.kind)
        .c("Comment", &v.comment)
        .b("ExpectedTypeHasDefault", v.expected_type_has_default)
        .done()
}

fn opt_value_json(v: &Option<Value>) -> J {
    v.as_ref().map(value_json).unwrap_or(J::Null)
}

fn child_json(c: &ChildValue) -> J {
    O::new()
        .s("Name", &c.name)
        .j(
            "Value",
            c.value.as_ref().map(|v| value_json(v)).unwrap_or(J::Null),
        )
        .c("Comment", &c.comment)
        .done()
}

pub fn type_json(t: &Type) -> J {
    O::new()
        .s("NamedType", &t.named)
        .j(
            "Elem",
            t.elem.as_ref().map(|e| type_json(e)).unwrap_or(J::Null),
        )
        .b("NonNull", t.non_null)
        .done()
}

fn opt_type_json(t: &Option<Type>) -> J {
    t.as_ref().map(type_json).unwrap_or(J::Null)
}

fn argument_json(a: &Argument) -> J {
    O::new()
        .s("Name", &a.name)
        .j("Value", opt_value_json(&a.value))
        .c("Comment", &a.comment)
        .done()
}

fn directive_json(d: &Directive) -> J {
    O::new()
        .s("Name", &d.name)
        .j("Arguments", arr(&d.arguments, argument_json))
        .s("Location", &d.location)
        .done()
}

fn selection_json(s: &Selection) -> J {
    match s {
        Selection::Field(f) => O::new()
            .s("Alias", &f.alias)
            .s("Name", &f.name)
            .j("Arguments", arr(&f.arguments, argument_json))
            .j("Directives", arr(&f.directives, directive_json))
            .j("SelectionSet", arr(&f.selection_set, selection_json))
            .c("Comment", &f.comment)
            .done(),
        Selection::Spread(f) => O::new()
            .s("Name", &f.name)
            .j("Directives", arr(&f.directives, directive_json))
            .c("Comment", &f.comment)
            .done(),
        Selection::Inline(f) => O::new()
            .s("TypeCondition", &f.type_condition)
            .j("Directives", arr(&f.directives, directive_json))
            .j("SelectionSet", arr(&f.selection_set, selection_json))
            .c("Comment", &f.comment)
            .done(),
    }
}

fn variable_definition_json(v: &VariableDefinition) -> J {
    O::new()
        .s("Variable", &v.variable)
        .j("Type", opt_type_json(&v.ty))
        .j("DefaultValue", opt_value_json(&v.default_value))
        .j("Directives", arr(&v.directives, directive_json))
        .c("Comment", &v.comment)
        .b("Used", v.used)
        .done()
}

pub fn query_document_json(d: &QueryDocument) -> J {
    O::new()
        .j(
            "Operations",
            arr(&d.operations, |o| {
                O::new()
                    .s("Operation", &o.operation)
                    .s("Name", &o.name)
                    .j(
                        "VariableDefinitions",
                        arr(&o.variable_definitions, variable_definition_json),
                    )
                    .j("Directives", arr(&o.directives, directive_json))
                    .j("SelectionSet", arr(&o.selection_set, selection_json))
                    .c("Comment", &o.comment)
                    .done()
            }),
        )
        .j(
            "Fragments",
            arr(&d.fragments, |f| {
                O::new()
                    .s("Name", &f.name)
                    .j(
                        "VariableDefinition",
                        arr(&f.variable_definition, variable_definition_json),
                    )
                    .s("TypeCondition", &f.type_condition)
                    .j("Directives", arr(&f.directives, directive_json))
                    .j("SelectionSet", arr(&f.selection_set, selection_json))
                    .c("Comment", &f.comment)
                    .done()
            }),
        )
        .c("Comment", &d.comment)
        .done()
}

fn argument_definition_json(a: &ArgumentDefinition) -> J {
    O::new()
        .s("Description", &a.description)
        .s("Name", &a.name)
        .j("DefaultValue", opt_value_json(&a.default_value))
        .j("Type", opt_type_json(&a.ty))
        .j("Directives", arr(&a.directives, directive_json))
        .c("BeforeDescriptionComment", &a.before_description_comment)
        .c("AfterDescriptionComment", &a.after_description_comment)
        .done()
}

fn field_definition_json(f: &FieldDefinition) -> J {
    O::new()
        .s("Description", &f.description)
        .s("Name", &f.name)
        .j("Arguments", arr(&f.arguments, argument_definition_json))
        .j("DefaultValue", opt_value_json(&f.default_value))
        .j("Type", opt_type_json(&f.ty))
        .j("Directives", arr(&f.directives, directive_json))
        .c("BeforeDescriptionComment", &f.before_description_comment)
        .c("AfterDescriptionComment", &f.after_description_comment)
        .done()
}

fn schema_definition_json(s: &SchemaDefinition) -> J {
    O::new()
        .s("Description", &s.description)
        .j("Directives", arr(&s.directives, directive_json))
        .j(
            "OperationTypes",
            arr(&s.operation_types, |o| {
                O::new()
                    .s("Operation", &o.operation)
                    .s("Type", &o.ty)
                    .c("Comment", &o.comment)
                    .done()
            }),
        )
        .c("BeforeDescriptionComment", &s.before_description_comment)
        .c("AfterDescriptionComment", &s.after_description_comment)
        .c("EndOfDefinitionComment", &s.end_of_definition_comment)
        .done()
}

fn definition_json(d: &Definition) -> J {
    O::new()
        .s("Kind", &d.kind)
        .s("Description", &d.description)
        .s("Name", &d.name)
        .j("Directives", arr(&d.directives, directive_json))
        .j("Interfaces", strs(&d.interfaces))
        .j("Fields", arr(&d.fields, field_definition_json))
        .j("Types", strs(&d.types))
        .j(
            "EnumValues",
            arr(&d.enum_values, |e| {
                O::new()
                    .s("Description", &e.description)
                    .s("Name", &e.name)
                    .j("Directives", arr(&e.directives, directive_json))
                    .c("BeforeDescriptionComment", &e.before_description_comment)
                    .c("AfterDescriptionComment", &e.after_description_comment)
                    .done()
            }),
        )
        .b("BuiltIn", d.builtin)
        .c("BeforeDescriptionComment", &d.before_description_comment)
        .c("AfterDescriptionComment", &d.after_description_comment)
        .c("EndOfDefinitionComment", &d.end_of_definition_comment)
        .done()
}

pub fn schema_document_json(d: &SchemaDocument) -> J {
    O::new()
        .j("Schema", arr(&d.schema, schema_definition_json))
        .j(
            "SchemaExtension",
            arr(&d.schema_extension, schema_definition_json),
        )
        .j(
            "Directives",
            arr(&d.directives, |x| {
                O::new()
                    .s("Description", &x.description)
                    .s("Name", &x.name)
                    .j("Arguments", arr(&x.arguments, argument_definition_json))
                    .j("Locations", strs(&x.locations))
                    .b("IsRepeatable", x.is_repeatable)
                    .c("BeforeDescriptionComment", &x.before_description_comment)
                    .c("AfterDescriptionComment", &x.after_description_comment)
                    .done()
            }),
        )
        .j("Definitions", arr(&d.definitions, definition_json))
        .j("Extensions", arr(&d.extensions, definition_json))
        .c("Comment", &d.comment)
        .done()
}
