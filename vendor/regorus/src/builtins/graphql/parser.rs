// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! gqlparser v2.5.58's parser (`parser` package), step for step: the first
//! error is kept and every later step is a no-op, as there. Comments attach
//! where gqlparser attaches them, including where Go's evaluation order of
//! a composite literal reads `p.comment` after the literal's calls.

use super::ast::*;
use super::lexer::{go_quote, Kind, Lexer, Token};
use super::GqlError;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Nesting (selection sets, values, list types) beyond which parsing fails
/// loudly: gqlparser recurses without a bound.
pub const MAX_DEPTH: usize = 128;

pub struct Parser<'a> {
    lexer: Lexer<'a>,
    pub err: Option<GqlError>,
    peeked: bool,
    peek_token: Token,
    peek_error: Option<GqlError>,
    prev: Token,
    comment: Option<Comments>,
    comment_consuming: bool,
    depth: usize,
    tokens: usize,
}

fn eof_token() -> Token {
    Token {
        kind: Kind::Eof,
        value: String::new(),
        pos: Pos {
            line: 0,
            column: 0,
            builtin: false,
        },
    }
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a str, builtin: bool) -> Self {
        Parser {
            lexer: Lexer::new(input, builtin),
            err: None,
            peeked: false,
            peek_token: eof_token(),
            peek_error: None,
            prev: eof_token(),
            comment: None,
            comment_consuming: false,
            depth: 0,
            tokens: 0,
        }
    }

    fn comment(&self) -> Comments {
        self.comment.clone().unwrap_or_default()
    }

    fn read(&mut self) -> (Token, Option<GqlError>) {
        match self.lexer.read_token() {
            Ok(t) => (t, None),
            Err((t, e)) => (t, Some(e)),
        }
    }

    fn consume_comment(&mut self) -> Option<String> {
        if self.err.is_some() {
            return None;
        }
        let tok = self.peek();
        if tok.kind != Kind::Comment {
            return None;
        }
        self.next();
        Some(tok.value)
    }

    fn consume_comment_group(&mut self) {
        if self.err.is_some() || self.comment_consuming {
            return;
        }
        self.comment_consuming = true;
        let mut comments = Vec::new();
        while let Some(c) = self.consume_comment() {
            comments.push(c);
        }
        self.comment = Some(comments);
        self.comment_consuming = false;
    }

    fn peek_pos(&mut self) -> Option<Pos> {
        if self.err.is_some() {
            return None;
        }
        Some(self.peek().pos)
    }

    fn peek(&mut self) -> Token {
        if self.err.is_some() {
            return self.prev.clone();
        }
        if !self.peeked {
            let (t, e) = self.read();
            self.peek_token = t;
            self.peek_error = e;
            self.peeked = true;
            if self.peek_token.kind == Kind::Comment {
                self.consume_comment_group();
            }
        }
        self.peek_token.clone()
    }

    fn peek_kind(&mut self) -> Kind {
        self.peek().kind
    }

    fn error(&mut self, tok: &Token, msg: String) {
        if self.err.is_some() {
            return;
        }
        self.err = Some(GqlError::at(Some(tok.pos), msg));
    }

    fn next(&mut self) -> Token {
        if self.err.is_some() {
            return self.prev.clone();
        }
        self.tokens = self.tokens.wrapping_add(1);
        if crate::utils::limits::tick(self.tokens).is_err() {
            self.err = Some(GqlError::unsupported(
                "the evaluation's time limit was reached while parsing",
            ));
            return self.prev.clone();
        }
        if self.peeked {
            self.peeked = false;
            self.comment = None;
            self.prev = self.peek_token.clone();
            self.err = self.peek_error.take();
        } else {
            let (t, e) = self.read();
            self.prev = t;
            self.err = e;
            if self.prev.kind == Kind::Comment {
                self.consume_comment_group();
            }
        }
        self.prev.clone()
    }

    fn expect_keyword(&mut self, value: &str) -> (Token, Comments) {
        let tok = self.peek();
        let comment = self.comment();
        if tok.kind == Kind::Name && tok.value == value {
            return (self.next(), comment);
        }
        self.error(
            &tok,
            format!("Expected {}, found {}", go_quote(value), tok.describe()),
        );
        (tok, comment)
    }

    fn expect(&mut self, kind: Kind) -> (Token, Comments) {
        let tok = self.peek();
        let comment = self.comment();
        if tok.kind == kind {
            return (self.next(), comment);
        }
        self.error(
            &tok,
            format!("Expected {}, found {}", kind.as_str(), tok.kind.as_str()),
        );
        (tok, comment)
    }

    fn skip(&mut self, kind: Kind) -> bool {
        if self.err.is_some() {
            return false;
        }
        if self.peek().kind != kind {
            return false;
        }
        self.next();
        true
    }

    fn unexpected_error(&mut self) {
        let t = self.peek();
        self.unexpected_token(&t);
    }

    fn unexpected_token(&mut self, tok: &Token) {
        self.error(tok, format!("Unexpected {}", tok.describe()));
    }

    fn many(&mut self, start: Kind, end: Kind, mut cb: impl FnMut(&mut Self)) {
        if !self.skip(start) {
            return;
        }
        while self.peek_kind() != end && self.err.is_none() {
            cb(self);
        }
        self.next();
    }

    fn some(&mut self, start: Kind, end: Kind, mut cb: impl FnMut(&mut Self)) -> Comments {
        if !self.skip(start) {
            return Vec::new();
        }
        let mut called = false;
        while self.peek_kind() != end && self.err.is_none() {
            called = true;
            cb(self);
        }
        if !called {
            let t = self.peek();
            self.error(
                &t,
                format!(
                    "expected at least one definition, found {}",
                    t.kind.as_str()
                ),
            );
            return Vec::new();
        }
        let comment = self.comment();
        self.next();
        comment
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if self.err.is_none() {
                self.err = Some(GqlError::unsupported("GraphQL nesting over 128 levels"));
            }
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ------------------------------------------------------------ query

    pub fn parse_query_document(&mut self) -> QueryDocument {
        let mut doc = QueryDocument::default();
        while self.peek_kind() != Kind::Eof {
            if self.err.is_some() {
                return doc;
            }
            let t = self.peek();
            match t.kind {
                Kind::Name => match t.value.as_str() {
                    "query" | "mutation" | "subscription" => {
                        let o = self.parse_operation_definition();
                        doc.operations.push(o);
                    }
                    "fragment" => {
                        let f = self.parse_fragment_definition();
                        doc.fragments.push(f);
                    }
                    _ => self.unexpected_error(),
                },
                Kind::BraceL => {
                    let o = self.parse_operation_definition();
                    doc.operations.push(o);
                }
                _ => self.unexpected_error(),
            }
        }
        doc
    }

    fn parse_operation_definition(&mut self) -> OperationDefinition {
        if self.peek_kind() == Kind::BraceL {
            let pos = self.peek_pos();
            let selection_set = self.parse_required_selection_set();
            // Go reads p.comment after the literal's calls.
            return OperationDefinition {
                pos,
                comment: self.comment(),
                operation: "query".into(),
                selection_set,
                ..Default::default()
            };
        }
        let mut od = OperationDefinition {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        od.operation = self.parse_operation_type();
        if self.peek_kind() == Kind::Name {
            od.name = self.next().value;
        }
        od.variable_definitions = self.parse_variable_definitions();
        od.directives = self.parse_directives(false);
        od.selection_set = self.parse_required_selection_set();
        od
    }

    fn parse_operation_type(&mut self) -> String {
        let tok = self.next();
        match tok.value.as_str() {
            "query" | "mutation" | "subscription" => return tok.value,
            _ => {}
        }
        self.unexpected_token(&tok);
        String::new()
    }

    fn parse_variable_definitions(&mut self) -> Vec<VariableDefinition> {
        let mut defs = Vec::new();
        self.some(Kind::ParenL, Kind::ParenR, |p| {
            let d = p.parse_variable_definition();
            defs.push(d);
        });
        defs
    }

    fn parse_variable_definition(&mut self) -> VariableDefinition {
        let mut def = VariableDefinition {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        def.variable = self.parse_variable();
        self.expect(Kind::Colon);
        def.ty = Some(self.parse_type_reference());
        if self.skip(Kind::Equals) {
            def.default_value = self.parse_value_literal(true);
        }
        def.directives = self.parse_directives(false);
        def
    }

    fn parse_variable(&mut self) -> String {
        self.expect(Kind::Dollar);
        self.parse_name()
    }

    fn parse_selection_set_inner(&mut self) -> Vec<Selection> {
        let mut selections = Vec::new();
        if !self.enter() {
            return selections;
        }
        self.some(Kind::BraceL, Kind::BraceR, |p| {
            let s = p.parse_selection();
            selections.push(s);
        });
        self.leave();
        selections
    }

    fn parse_optional_selection_set(&mut self) -> Vec<Selection> {
        self.parse_selection_set_inner()
    }

    fn parse_required_selection_set(&mut self) -> Vec<Selection> {
        let t = self.peek();
        if t.kind != Kind::BraceL {
            self.error(
                &t,
                format!(
                    "Expected {}, found {}",
                    Kind::BraceL.as_str(),
                    t.kind.as_str()
                ),
            );
            return Vec::new();
        }
        self.parse_selection_set_inner()
    }

    fn parse_selection(&mut self) -> Selection {
        if self.peek_kind() == Kind::Spread {
            return self.parse_fragment();
        }
        Selection::Field(self.parse_field())
    }

    fn parse_field(&mut self) -> Field {
        let mut field = Field {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        field.alias = self.parse_name();
        if self.skip(Kind::Colon) {
            field.name = self.parse_name();
        } else {
            field.name = field.alias.clone();
        }
        field.arguments = self.parse_arguments(false);
        field.directives = self.parse_directives(false);
        if self.peek_kind() == Kind::BraceL {
            field.selection_set = self.parse_optional_selection_set();
        }
        field
    }

    fn parse_arguments(&mut self, is_const: bool) -> Vec<Argument> {
        let mut args = Vec::new();
        self.some(Kind::ParenL, Kind::ParenR, |p| {
            let a = p.parse_argument(is_const);
            args.push(a);
        });
        args
    }

    fn parse_argument(&mut self, is_const: bool) -> Argument {
        let mut arg = Argument {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        arg.name = self.parse_name();
        self.expect(Kind::Colon);
        arg.value = self.parse_value_literal(is_const);
        arg
    }

    fn parse_fragment(&mut self) -> Selection {
        let (_, comment) = self.expect(Kind::Spread);
        let peek = self.peek();
        if peek.kind == Kind::Name && peek.value != "on" {
            let pos = self.peek_pos();
            let name = self.parse_fragment_name();
            let directives = self.parse_directives(false);
            return Selection::Spread(FragmentSpread {
                pos,
                comment,
                name,
                directives,
            });
        }
        let mut def = InlineFragment {
            pos: self.peek_pos(),
            comment,
            ..Default::default()
        };
        if self.peek().value == "on" {
            self.next();
            def.type_condition = self.parse_name();
        }
        def.directives = self.parse_directives(false);
        def.selection_set = self.parse_required_selection_set();
        Selection::Inline(def)
    }

    fn parse_fragment_definition(&mut self) -> FragmentDefinition {
        let mut def = FragmentDefinition {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        self.expect_keyword("fragment");
        def.name = self.parse_fragment_name();
        def.variable_definition = self.parse_variable_definitions();
        self.expect_keyword("on");
        def.type_condition = self.parse_name();
        def.directives = self.parse_directives(false);
        def.selection_set = self.parse_required_selection_set();
        def
    }

    fn parse_fragment_name(&mut self) -> String {
        if self.peek().value == "on" {
            self.unexpected_error();
            return String::new();
        }
        self.parse_name()
    }

    fn parse_value_literal(&mut self, is_const: bool) -> Option<Value> {
        if !self.enter() {
            return None;
        }
        let v = self.parse_value_literal_inner(is_const);
        self.leave();
        v
    }

    fn parse_value_literal_inner(&mut self, is_const: bool) -> Option<Value> {
        let token = self.peek();
        let kind = match token.kind {
            Kind::BracketL => return Some(self.parse_list(is_const)),
            Kind::BraceL => return Some(self.parse_object(is_const)),
            Kind::Dollar => {
                if is_const {
                    self.unexpected_error();
                    return None;
                }
                let raw = self.parse_variable();
                return Some(Value {
                    pos: Some(token.pos),
                    comment: self.comment(),
                    raw,
                    kind: KIND_VARIABLE,
                    children: Vec::new(),
                    expected_type_has_default: false,
                });
            }
            Kind::Int => KIND_INT,
            Kind::Float => KIND_FLOAT,
            Kind::String => KIND_STRING,
            Kind::BlockString => KIND_BLOCK,
            Kind::Name => match token.value.as_str() {
                "true" | "false" => KIND_BOOLEAN,
                "null" => KIND_NULL,
                _ => KIND_ENUM,
            },
            _ => {
                self.unexpected_error();
                return None;
            }
        };
        self.next();
        Some(Value {
            pos: Some(token.pos),
            comment: self.comment(),
            raw: token.value,
            kind,
            children: Vec::new(),
            expected_type_has_default: false,
        })
    }

    fn parse_list(&mut self, is_const: bool) -> Value {
        let mut values = Vec::new();
        let pos = self.peek_pos();
        let comment = self.comment();
        self.many(Kind::BracketL, Kind::BracketR, |p| {
            let v = p.parse_value_literal(is_const);
            values.push(ChildValue {
                value: v.map(Box::new),
                ..Default::default()
            });
        });
        Value {
            children: values,
            kind: KIND_LIST,
            pos,
            comment,
            raw: String::new(),
            expected_type_has_default: false,
        }
    }

    fn parse_object(&mut self, is_const: bool) -> Value {
        let mut fields = Vec::new();
        let pos = self.peek_pos();
        let comment = self.comment();
        self.many(Kind::BraceL, Kind::BraceR, |p| {
            let f = p.parse_object_field(is_const);
            fields.push(f);
        });
        Value {
            children: fields,
            kind: KIND_OBJECT,
            pos,
            comment,
            raw: String::new(),
            expected_type_has_default: false,
        }
    }

    fn parse_object_field(&mut self, is_const: bool) -> ChildValue {
        let mut field = ChildValue {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        field.name = self.parse_name();
        self.expect(Kind::Colon);
        field.value = self.parse_value_literal(is_const).map(Box::new);
        field
    }

    fn parse_directives(&mut self, is_const: bool) -> Vec<Directive> {
        let mut directives = Vec::new();
        while self.peek_kind() == Kind::At {
            if self.err.is_some() {
                break;
            }
            let d = self.parse_directive(is_const);
            directives.push(d);
        }
        directives
    }

    fn parse_directive(&mut self, is_const: bool) -> Directive {
        self.expect(Kind::At);
        let pos = self.peek_pos();
        let name = self.parse_name();
        let arguments = self.parse_arguments(is_const);
        Directive {
            pos,
            name,
            arguments,
            location: String::new(),
        }
    }

    fn parse_type_reference(&mut self) -> Type {
        let mut typ = Type::default();
        if !self.enter() {
            return typ;
        }
        if self.skip(Kind::BracketL) {
            typ.pos = self.peek_pos();
            typ.elem = Some(Box::new(self.parse_type_reference()));
            self.expect(Kind::BracketR);
        } else {
            typ.pos = self.peek_pos();
            typ.named = self.parse_name();
        }
        if self.skip(Kind::Bang) {
            typ.non_null = true;
        }
        self.leave();
        typ
    }

    fn parse_name(&mut self) -> String {
        self.expect(Kind::Name).0.value
    }

    // ------------------------------------------------------------ schema

    pub fn parse_schema_document(&mut self) -> SchemaDocument {
        let mut doc = SchemaDocument::default();
        let _ = self.peek_pos();
        while self.peek_kind() != Kind::Eof {
            if self.err.is_some() {
                return doc;
            }
            let mut description = (String::new(), Vec::new());
            let k = self.peek_kind();
            if k == Kind::BlockString || k == Kind::String {
                description = self.parse_description();
            }
            let t = self.peek();
            if t.kind != Kind::Name {
                self.unexpected_error();
                break;
            }
            match t.value.as_str() {
                "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                    if let Some(d) = self.parse_type_system_definition(description) {
                        doc.definitions.push(d);
                    }
                }
                "schema" => {
                    let s = self.parse_schema_definition(description);
                    doc.schema.push(s);
                }
                "directive" => {
                    let d = self.parse_directive_definition(description);
                    doc.directives.push(d);
                }
                "extend" => {
                    if !description.0.is_empty() {
                        let prev = self.prev.clone();
                        self.unexpected_token(&prev);
                    }
                    self.parse_type_system_extension(&mut doc);
                }
                _ => {
                    self.unexpected_error();
                    return doc;
                }
            }
        }
        doc.comment = self.comment();
        doc
    }

    fn parse_description(&mut self) -> (String, Comments) {
        let token = self.peek();
        if token.kind != Kind::BlockString && token.kind != Kind::String {
            return (String::new(), Vec::new());
        }
        let comment = self.comment();
        let text = self.next().value;
        (text, comment)
    }

    fn parse_type_system_definition(&mut self, d: (String, Comments)) -> Option<Definition> {
        let tok = self.peek();
        if tok.kind != Kind::Name {
            self.unexpected_error();
            return None;
        }
        let kind = match tok.value.as_str() {
            "scalar" => "SCALAR",
            "type" => "OBJECT",
            "interface" => "INTERFACE",
            "union" => "UNION",
            "enum" => "ENUM",
            "input" => "INPUT_OBJECT",
            _ => {
                self.unexpected_error();
                return None;
            }
        };
        let keyword = tok.value.clone();
        let (_, comment) = self.expect_keyword(&keyword);
        let mut def = Definition {
            pos: self.peek_pos(),
            kind: kind.into(),
            before_description_comment: d.1,
            description: d.0,
            after_description_comment: comment,
            ..Default::default()
        };
        def.name = self.parse_name();
        match kind {
            "SCALAR" => def.directives = self.parse_directives(true),
            "OBJECT" | "INTERFACE" => {
                def.interfaces = self.parse_implements_interfaces();
                def.directives = self.parse_directives(true);
                let (f, c) = self.parse_fields_definition();
                def.fields = f;
                def.end_of_definition_comment = c;
            }
            "UNION" => {
                def.directives = self.parse_directives(true);
                let (t, p) = self.parse_union_member_types();
                def.types = t;
                def.type_positions = p;
            }
            "ENUM" => {
                def.directives = self.parse_directives(true);
                let (v, c) = self.parse_enum_values_definition();
                def.enum_values = v;
                def.end_of_definition_comment = c;
            }
            _ => {
                def.directives = self.parse_directives(true);
                let (f, c) = self.parse_input_fields_definition();
                def.fields = f;
                def.end_of_definition_comment = c;
            }
        }
        Some(def)
    }

    fn parse_schema_definition(&mut self, d: (String, Comments)) -> SchemaDefinition {
        let (_, comment) = self.expect_keyword("schema");
        let mut def = SchemaDefinition {
            pos: self.peek_pos(),
            before_description_comment: d.1,
            description: d.0,
            after_description_comment: comment,
            ..Default::default()
        };
        def.directives = self.parse_directives(true);
        let mut ops = Vec::new();
        def.end_of_definition_comment = self.some(Kind::BraceL, Kind::BraceR, |p| {
            let o = p.parse_operation_type_definition();
            ops.push(o);
        });
        def.operation_types = ops;
        def
    }

    fn parse_operation_type_definition(&mut self) -> OperationTypeDefinition {
        let mut op = OperationTypeDefinition {
            pos: self.peek_pos(),
            comment: self.comment(),
            ..Default::default()
        };
        op.operation = self.parse_operation_type();
        self.expect(Kind::Colon);
        op.ty = self.parse_name();
        op
    }

    fn parse_implements_interfaces(&mut self) -> Vec<String> {
        let mut types = Vec::new();
        if self.peek().value == "implements" {
            self.next();
            self.skip(Kind::Amp);
            types.push(self.parse_name());
            while self.skip(Kind::Amp) && self.err.is_none() {
                types.push(self.parse_name());
            }
        }
        types
    }

    fn parse_fields_definition(&mut self) -> (Vec<FieldDefinition>, Comments) {
        let mut defs = Vec::new();
        let c = self.some(Kind::BraceL, Kind::BraceR, |p| {
            let f = p.parse_field_definition(false);
            defs.push(f);
        });
        (defs, c)
    }

    /// `parseFieldDefinition` (`input` false) and `parseInputValueDef`.
    fn parse_field_definition(&mut self, input: bool) -> FieldDefinition {
        let mut def = FieldDefinition::default();
        let (text, comment) = self.parse_description();
        if !text.is_empty() {
            def.before_description_comment = comment;
            def.description = text;
        }
        self.peek();
        def.after_description_comment = self.comment();
        def.pos = self.peek_pos();
        def.name = self.parse_name();
        if !input {
            def.arguments = self.parse_argument_defs();
        }
        self.expect(Kind::Colon);
        def.ty = Some(self.parse_type_reference());
        if input && self.skip(Kind::Equals) {
            def.default_value = self.parse_value_literal(true);
        }
        def.directives = self.parse_directives(true);
        def
    }

    fn parse_argument_defs(&mut self) -> Vec<ArgumentDefinition> {
        let mut args = Vec::new();
        self.some(Kind::ParenL, Kind::ParenR, |p| {
            let a = p.parse_argument_def();
            args.push(a);
        });
        args
    }

    fn parse_argument_def(&mut self) -> ArgumentDefinition {
        let mut def = ArgumentDefinition::default();
        let (text, comment) = self.parse_description();
        if !text.is_empty() {
            def.before_description_comment = comment;
            def.description = text;
        }
        self.peek();
        def.after_description_comment = self.comment();
        def.pos = self.peek_pos();
        def.name = self.parse_name();
        self.expect(Kind::Colon);
        def.ty = Some(self.parse_type_reference());
        if self.skip(Kind::Equals) {
            def.default_value = self.parse_value_literal(true);
        }
        def.directives = self.parse_directives(true);
        def
    }

    fn parse_union_member_types(&mut self) -> (Vec<String>, Vec<Option<Pos>>) {
        let mut types = Vec::new();
        let mut positions = Vec::new();
        if self.skip(Kind::Equals) {
            self.skip(Kind::Pipe);
            positions.push(self.peek_pos());
            types.push(self.parse_name());
            while self.skip(Kind::Pipe) && self.err.is_none() {
                positions.push(self.peek_pos());
                types.push(self.parse_name());
            }
        }
        (types, positions)
    }

    fn parse_enum_values_definition(&mut self) -> (Vec<EnumValueDefinition>, Comments) {
        let mut values = Vec::new();
        let c = self.some(Kind::BraceL, Kind::BraceR, |p| {
            let v = p.parse_enum_value_definition();
            values.push(v);
        });
        (values, c)
    }

    fn parse_enum_value_definition(&mut self) -> EnumValueDefinition {
        let mut def = EnumValueDefinition::default();
        let (text, comment) = self.parse_description();
        if !text.is_empty() {
            def.before_description_comment = comment;
            def.description = text;
        }
        self.peek();
        def.after_description_comment = self.comment();
        def.pos = self.peek_pos();
        def.name = self.parse_name();
        def.directives = self.parse_directives(true);
        def
    }

    fn parse_input_fields_definition(&mut self) -> (Vec<FieldDefinition>, Comments) {
        let mut values = Vec::new();
        let c = self.some(Kind::BraceL, Kind::BraceR, |p| {
            let f = p.parse_field_definition(true);
            values.push(f);
        });
        (values, c)
    }

    fn parse_type_system_extension(&mut self, doc: &mut SchemaDocument) {
        let (_, comment) = self.expect_keyword("extend");
        let v = self.peek().value;
        match v.as_str() {
            "schema" => {
                self.expect_keyword("schema");
                let mut def = SchemaDefinition {
                    pos: self.peek_pos(),
                    after_description_comment: comment,
                    ..Default::default()
                };
                def.directives = self.parse_directives(true);
                let mut ops = Vec::new();
                def.end_of_definition_comment = self.some(Kind::BraceL, Kind::BraceR, |p| {
                    let o = p.parse_operation_type_definition();
                    ops.push(o);
                });
                def.operation_types = ops;
                if def.directives.is_empty() && def.operation_types.is_empty() {
                    self.unexpected_error();
                }
                doc.schema_extension.push(def);
            }
            "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                self.expect_keyword(&v);
                let kind = match v.as_str() {
                    "scalar" => "SCALAR",
                    "type" => "OBJECT",
                    "interface" => "INTERFACE",
                    "union" => "UNION",
                    "enum" => "ENUM",
                    _ => "INPUT_OBJECT",
                };
                let mut def = Definition {
                    pos: self.peek_pos(),
                    after_description_comment: comment,
                    kind: kind.into(),
                    ..Default::default()
                };
                def.name = self.parse_name();
                let empty = match kind {
                    "SCALAR" => {
                        def.directives = self.parse_directives(true);
                        def.directives.is_empty()
                    }
                    "OBJECT" => {
                        def.interfaces = self.parse_implements_interfaces();
                        def.directives = self.parse_directives(true);
                        let (f, c) = self.parse_fields_definition();
                        def.fields = f;
                        def.end_of_definition_comment = c;
                        def.interfaces.is_empty()
                            && def.directives.is_empty()
                            && def.fields.is_empty()
                    }
                    "INTERFACE" => {
                        def.directives = self.parse_directives(true);
                        let (f, c) = self.parse_fields_definition();
                        def.fields = f;
                        def.end_of_definition_comment = c;
                        def.directives.is_empty() && def.fields.is_empty()
                    }
                    "UNION" => {
                        def.directives = self.parse_directives(true);
                        let (t, p) = self.parse_union_member_types();
                        def.types = t;
                        def.type_positions = p;
                        def.directives.is_empty() && def.types.is_empty()
                    }
                    "ENUM" => {
                        def.directives = self.parse_directives(true);
                        let (e, c) = self.parse_enum_values_definition();
                        def.enum_values = e;
                        def.end_of_definition_comment = c;
                        def.directives.is_empty() && def.enum_values.is_empty()
                    }
                    _ => {
                        def.directives = self.parse_directives(false);
                        let (f, c) = self.parse_input_fields_definition();
                        def.fields = f;
                        def.end_of_definition_comment = c;
                        def.directives.is_empty() && def.fields.is_empty()
                    }
                };
                if empty {
                    self.unexpected_error();
                }
                doc.extensions.push(def);
            }
            _ => self.unexpected_error(),
        }
    }

    fn parse_directive_definition(&mut self, d: (String, Comments)) -> DirectiveDefinition {
        let (_, comment) = self.expect_keyword("directive");
        self.expect(Kind::At);
        let mut def = DirectiveDefinition {
            pos: self.peek_pos(),
            before_description_comment: d.1,
            description: d.0,
            after_description_comment: comment,
            ..Default::default()
        };
        def.name = self.parse_name();
        def.arguments = self.parse_argument_defs();
        let peek = self.peek();
        if peek.kind == Kind::Name && peek.value == "repeatable" {
            def.is_repeatable = true;
            self.skip(Kind::Name);
        }
        self.expect_keyword("on");
        self.skip(Kind::Pipe);
        let mut locations = Vec::new();
        locations.push(self.parse_directive_location());
        while self.skip(Kind::Pipe) && self.err.is_none() {
            locations.push(self.parse_directive_location());
        }
        def.locations = locations;
        def
    }

    fn parse_directive_location(&mut self) -> String {
        let (name, _) = self.expect(Kind::Name);
        match name.value.as_str() {
            "QUERY"
            | "MUTATION"
            | "SUBSCRIPTION"
            | "FIELD"
            | "FRAGMENT_DEFINITION"
            | "FRAGMENT_SPREAD"
            | "INLINE_FRAGMENT"
            | "VARIABLE_DEFINITION"
            | "SCHEMA"
            | "SCALAR"
            | "OBJECT"
            | "FIELD_DEFINITION"
            | "ARGUMENT_DEFINITION"
            | "INTERFACE"
            | "UNION"
            | "ENUM"
            | "ENUM_VALUE"
            | "INPUT_OBJECT"
            | "INPUT_FIELD_DEFINITION" => {
                return name.value;
            }
            _ => {}
        }
        self.unexpected_token(&name);
        String::new()
    }
}

pub fn parse_query(input: &str) -> Result<QueryDocument, GqlError> {
    let mut p = Parser::new(input, false);
    let doc = p.parse_query_document();
    match p.err {
        Some(e) => Err(e),
        None => Ok(doc),
    }
}

pub fn parse_schema(input: &str, builtin: bool) -> Result<SchemaDocument, GqlError> {
    let mut p = Parser::new(input, builtin);
    let mut doc = p.parse_schema_document();
    if let Some(e) = p.err {
        return Err(e);
    }
    for d in doc.definitions.iter_mut().chain(doc.extensions.iter_mut()) {
        d.builtin = builtin;
    }
    Ok(doc)
}
