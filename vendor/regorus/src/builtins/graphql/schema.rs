// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! gqlparser's ValidateSchemaDocument (validator/schema.go) over the
//! prelude merged with the document, as OPA's convertSchema does.

use super::ast::*;
use super::lexer::go_quote;
use super::{parser, GqlError};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const PRELUDE: &str = include_str!("prelude.graphql");

#[derive(Debug, Default, Clone)]
pub struct Schema {
    pub types: BTreeMap<String, Definition>,
    pub directives: BTreeMap<String, DirectiveDefinition>,
    pub query: Option<String>,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
    /// Names; `None` where gqlparser holds a nil definition.
    pub possible_types: BTreeMap<String, Vec<Option<String>>>,
    pub implements: BTreeMap<String, Vec<Option<String>>>,
}

fn err(pos: Option<Pos>, msg: String) -> GqlError {
    GqlError::at(pos, msg)
}

fn ty_of(t: &Option<Type>) -> Result<&Type, GqlError> {
    t.as_ref()
        .ok_or_else(|| GqlError::unsupported("a definition without a type"))
}

pub fn validate_schema_document(user: &SchemaDocument) -> Result<Schema, GqlError> {
    let prelude = parser::parse_schema(PRELUDE, true)?;
    let mut sd = prelude;
    sd.schema.extend(user.schema.iter().cloned());
    sd.schema_extension
        .extend(user.schema_extension.iter().cloned());
    sd.directives.extend(user.directives.iter().cloned());
    sd.definitions.extend(user.definitions.iter().cloned());
    sd.extensions.extend(user.extensions.iter().cloned());
    validate(sd)
}

fn validate(sd: SchemaDocument) -> Result<Schema, GqlError> {
    let mut schema = Schema::default();
    // Definition order: the document's definitions, then types created by
    // extensions of undefined types.
    let mut order: Vec<String> = Vec::new();
    for def in &sd.definitions {
        if schema.types.contains_key(&def.name) {
            return Err(err(def.pos, format!("Cannot redeclare type {}.", def.name)));
        }
        schema.types.insert(def.name.clone(), def.clone());
        order.push(def.name.clone());
    }
    for ext in &sd.extensions {
        if !schema.types.contains_key(&ext.name) {
            schema.types.insert(
                ext.name.clone(),
                Definition {
                    kind: ext.kind.clone(),
                    name: ext.name.clone(),
                    pos: ext.pos,
                    ..Default::default()
                },
            );
            order.push(ext.name.clone());
        }
        let Some(def) = schema.types.get_mut(&ext.name) else {
            return Err(GqlError::unsupported("an extension"));
        };
        if def.kind != ext.kind {
            return Err(err(
                ext.pos,
                format!(
                    "Cannot extend type {} because the base type is a {}, not {}.",
                    ext.name, def.kind, ext.kind
                ),
            ));
        }
        def.directives.extend(ext.directives.iter().cloned());
        def.interfaces.extend(ext.interfaces.iter().cloned());
        def.fields.extend(ext.fields.iter().cloned());
        def.types.extend(ext.types.iter().cloned());
        def.type_positions
            .extend(ext.type_positions.iter().cloned());
        def.enum_values.extend(ext.enum_values.iter().cloned());
    }
    // A name in `order` may repeat when a document definition is named
    // twice; gqlparser failed above then. Definitions are read from the map
    // (which holds the extended state, as gqlparser's shared pointers do).
    for name in &order {
        let Some(def) = schema.types.get(name).cloned() else {
            continue;
        };
        let exists = |n: &str| schema.types.contains_key(n).then(|| String::from(n));
        match def.kind.as_str() {
            "UNION" => {
                for t in &def.types {
                    let pt = exists(t);
                    schema
                        .possible_types
                        .entry(def.name.clone())
                        .or_default()
                        .push(pt);
                    schema
                        .implements
                        .entry(t.clone())
                        .or_default()
                        .push(Some(def.name.clone()));
                }
            }
            "INPUT_OBJECT" | "OBJECT" => {
                for intf in &def.interfaces {
                    let it = exists(intf);
                    schema
                        .possible_types
                        .entry(intf.clone())
                        .or_default()
                        .push(Some(def.name.clone()));
                    schema
                        .implements
                        .entry(def.name.clone())
                        .or_default()
                        .push(it);
                }
                schema
                    .possible_types
                    .entry(def.name.clone())
                    .or_default()
                    .push(Some(def.name.clone()));
            }
            "INTERFACE" => {
                for intf in &def.interfaces {
                    let it = exists(intf);
                    schema
                        .possible_types
                        .entry(intf.clone())
                        .or_default()
                        .push(Some(def.name.clone()));
                    schema
                        .implements
                        .entry(def.name.clone())
                        .or_default()
                        .push(it);
                }
            }
            _ => {}
        }
    }
    for dir in &sd.directives {
        if schema.directives.contains_key(&dir.name) {
            match dir.name.as_str() {
                "include" | "skip" | "deprecated" | "specifiedBy" | "defer" | "oneOf" => {}
                _ => {
                    return Err(err(
                        dir.pos,
                        format!("Cannot redeclare directive {}.", dir.name),
                    ));
                }
            }
        }
        schema.directives.insert(dir.name.clone(), dir.clone());
    }
    if sd.schema.len() > 1 {
        return Err(err(
            sd.schema.get(1).and_then(|s| s.pos),
            "Cannot have multiple schema entry points, consider schema extensions instead.".into(),
        ));
    }
    for s in sd.schema.iter().chain(sd.schema_extension.iter()) {
        for ep in &s.operation_types {
            if !schema.types.contains_key(&ep.ty) {
                return Err(err(
                    ep.pos,
                    format!(
                        "Schema root {} refers to a type {} that does not exist.",
                        ep.operation, ep.ty
                    ),
                ));
            }
            match ep.operation.as_str() {
                "query" => schema.query = Some(ep.ty.clone()),
                "mutation" => schema.mutation = Some(ep.ty.clone()),
                "subscription" => schema.subscription = Some(ep.ty.clone()),
                _ => {}
            }
        }
        validate_directives(&schema, &s.directives, "SCHEMA", None, true)?;
    }
    let names: Vec<String> = schema.types.keys().cloned().collect();
    for name in &names {
        if let Some(def) = schema.types.get(name) {
            validate_definition(&schema, def)?;
        }
    }
    validate_input_object_circular_refs(&schema)?;
    for def in schema.directives.values() {
        validate_name(def.pos, &def.name)?;
        validate_args(&schema, &def.arguments, Some(def))?;
    }
    if sd.schema.is_empty() {
        for (slot, name) in [
            (&mut schema.query, "Query"),
            (&mut schema.mutation, "Mutation"),
            (&mut schema.subscription, "Subscription"),
        ] {
            if slot.is_none() && schema.types.contains_key(name) {
                *slot = Some(name.into());
            }
        }
    }
    if let Some(q) = schema.query.clone() {
        if let Some(def) = schema.types.get_mut(&q) {
            def.fields.push(FieldDefinition {
                name: "__schema".into(),
                ty: Some(Type::named("__Schema", true)),
                ..Default::default()
            });
            def.fields.push(FieldDefinition {
                name: "__type".into(),
                ty: Some(Type::named("__Type", false)),
                arguments: alloc::vec![ArgumentDefinition {
                    name: "name".into(),
                    ty: Some(Type::named("String", true)),
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
    }
    Ok(schema)
}

fn validate_input_object_circular_refs(schema: &Schema) -> Result<(), GqlError> {
    struct St<'a> {
        schema: &'a Schema,
        visited: BTreeSet<String>,
        path: Vec<&'a FieldDefinition>,
        index: BTreeMap<String, usize>,
    }
    fn detect<'a>(st: &mut St<'a>, def: &'a Definition, depth: usize) -> Result<(), GqlError> {
        if st.visited.contains(&def.name) {
            return Ok(());
        }
        if depth > 4096 {
            return Err(GqlError::unsupported(
                "input objects nested over 4096 levels",
            ));
        }
        st.visited.insert(def.name.clone());
        st.index.insert(def.name.clone(), st.path.len());
        for field in &def.fields {
            let t = ty_of(&field.ty)?;
            if !t.non_null || t.named.is_empty() {
                continue;
            }
            let Some(ft) = st.schema.types.get(&t.named) else {
                continue;
            };
            if ft.kind != "INPUT_OBJECT" {
                continue;
            }
            st.path.push(field);
            if let Some(&ci) = st.index.get(&ft.name) {
                let cycle = st.path.get(ci..).unwrap_or(&[]);
                let names: Vec<&str> = cycle.iter().map(|f| f.name.as_str()).collect();
                return Err(err(
                    cycle.first().and_then(|f| f.pos),
                    format!(
                        "Cannot reference Input Object {} within itself through a series of non-null fields: {}.",
                        go_quote(&ft.name),
                        go_quote(&names.join("."))
                    ),
                ));
            }
            detect(st, ft, depth + 1)?;
            st.path.pop();
        }
        st.index.remove(&def.name);
        Ok(())
    }
    let mut st = St {
        schema,
        visited: BTreeSet::new(),
        path: Vec::new(),
        index: BTreeMap::new(),
    };
    for def in schema.types.values() {
        if def.kind != "INPUT_OBJECT" {
            continue;
        }
        detect(&mut st, def, 0)?;
    }
    Ok(())
}

fn is_input_type(kind: &str) -> bool {
    matches!(kind, "SCALAR" | "ENUM" | "INPUT_OBJECT")
}

fn validate_definition(schema: &Schema, def: &Definition) -> Result<(), GqlError> {
    for field in &def.fields {
        validate_name(field.pos, &field.name)?;
        validate_type_ref(schema, ty_of(&field.ty)?)?;
        validate_args(schema, &field.arguments, None)?;
        let loc = if def.kind == "INPUT_OBJECT" {
            "INPUT_FIELD_DEFINITION"
        } else {
            "FIELD_DEFINITION"
        };
        validate_directives(schema, &field.directives, loc, None, true)?;
    }
    for typ in &def.types {
        let Some(td) = schema.types.get(typ) else {
            return Err(err(def.pos, format!("Undefined type {}.", go_quote(typ))));
        };
        if td.kind != "OBJECT" {
            return Err(err(
                def.pos,
                format!("{} type {} must be {}.", def.kind, go_quote(typ), "OBJECT"),
            ));
        }
    }
    for intf in &def.interfaces {
        validate_implements(schema, def, intf)?;
    }
    match def.kind.as_str() {
        "OBJECT" | "INTERFACE" => {
            if def.fields.is_empty() {
                return Err(err(
                    def.pos,
                    format!("{} {}: must define one or more fields.", def.kind, def.name),
                ));
            }
            for field in &def.fields {
                if let Some(t) = schema.types.get(ty_of(&field.ty)?.name()) {
                    if !matches!(
                        t.kind.as_str(),
                        "SCALAR" | "OBJECT" | "INTERFACE" | "UNION" | "ENUM"
                    ) {
                        return Err(err(
                            field.pos,
                            format!(
                                "{} {}: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.",
                                def.kind, def.name
                            ),
                        ));
                    }
                }
            }
        }
        "ENUM" => {
            if def.enum_values.is_empty() {
                return Err(err(
                    def.pos,
                    format!(
                        "{} {}: must define one or more unique enum values.",
                        def.kind, def.name
                    ),
                ));
            }
            for value in &def.enum_values {
                if matches!(value.name.as_str(), "true" | "false" | "null") {
                    return Err(err(
                        def.pos,
                        format!("{} {}: non-enum value {}.", def.kind, def.name, value.name),
                    ));
                }
                validate_directives(schema, &value.directives, "ENUM_VALUE", None, true)?;
            }
        }
        "INPUT_OBJECT" => {
            if def.fields.is_empty() {
                return Err(err(
                    def.pos,
                    format!(
                        "{} {}: must define one or more input fields.",
                        def.kind, def.name
                    ),
                ));
            }
            for field in &def.fields {
                if let Some(t) = schema.types.get(ty_of(&field.ty)?.name()) {
                    if !matches!(t.kind.as_str(), "SCALAR" | "ENUM" | "INPUT_OBJECT") {
                        return Err(err(
                            field.pos,
                            format!(
                                "{} {}: field must be one of SCALAR, ENUM, INPUT_OBJECT.",
                                t.kind, field.name
                            ),
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    for (i, f1) in def.fields.iter().enumerate() {
        for f2 in def.fields.iter().skip(i + 1) {
            if f1.name == f2.name {
                return Err(err(
                    f2.pos,
                    format!("Field {}.{} can only be defined once.", def.name, f2.name),
                ));
            }
        }
    }
    for (i, v1) in def.enum_values.iter().enumerate() {
        for v2 in def.enum_values.iter().skip(i + 1) {
            if v1.name == v2.name {
                return Err(err(
                    v2.pos,
                    format!(
                        "Enum value {}.{} can only be defined once.",
                        def.name, v2.name
                    ),
                ));
            }
        }
    }
    let aligned = def.type_positions.len() == def.types.len();
    for (i, t1) in def.types.iter().enumerate() {
        for (j, t2) in def.types.iter().enumerate().skip(i + 1) {
            if t1 != t2 {
                continue;
            }
            let mut pos = def.pos;
            if aligned {
                if let Some(Some(p)) = def.type_positions.get(j) {
                    pos = Some(*p);
                }
            }
            return Err(err(
                pos,
                format!("Union type {} can only include type {} once.", def.name, t2),
            ));
        }
    }
    if !def.builtin {
        validate_name(def.pos, &def.name)?;
    }
    validate_directives(schema, &def.directives, &def.kind, None, false)
}

fn validate_type_ref(schema: &Schema, t: &Type) -> Result<(), GqlError> {
    if !schema.types.contains_key(t.name()) {
        return Err(err(t.pos, format!("Undefined type {}.", t.name())));
    }
    Ok(())
}

fn validate_args(
    schema: &Schema,
    args: &[ArgumentDefinition],
    current: Option<&DirectiveDefinition>,
) -> Result<(), GqlError> {
    for arg in args {
        validate_name(arg.pos, &arg.name)?;
        let t = ty_of(&arg.ty)?;
        validate_type_ref(schema, t)?;
        let Some(def) = schema.types.get(t.name()) else {
            return Err(GqlError::unsupported("an argument type"));
        };
        if !is_input_type(&def.kind) {
            return Err(err(
                arg.pos,
                format!(
                    "cannot use {} as argument {} because {} is not a valid input type",
                    t.to_gql_string(),
                    arg.name,
                    def.kind
                ),
            ));
        }
        validate_directives(
            schema,
            &arg.directives,
            "ARGUMENT_DEFINITION",
            current,
            true,
        )?;
    }
    Ok(())
}

pub fn validate_directives(
    schema: &Schema,
    dirs: &[Directive],
    location: &str,
    current: Option<&DirectiveDefinition>,
    single_location: bool,
) -> Result<(), GqlError> {
    let mut seen = BTreeSet::new();
    for dir in dirs {
        validate_name(dir.pos, &dir.name)?;
        if let Some(c) = current {
            if dir.name == c.name {
                return Err(err(
                    dir.pos,
                    format!("Directive {} cannot refer to itself.", c.name),
                ));
            }
        }
        let Some(dd) = schema.directives.get(&dir.name) else {
            return Err(err(dir.pos, format!("Undefined directive {}.", dir.name)));
        };
        if single_location {
            if seen.contains(&dir.name) && !dd.is_repeatable {
                return Err(err(
                    dir.pos,
                    format!(
                        "The directive {} can only be used once at this location.",
                        dir.name
                    ),
                ));
            }
            seen.insert(dir.name.clone());
        }
        if !dd.locations.iter().any(|l| l == location) {
            return Err(err(
                dir.pos,
                format!("Directive {} is not applicable on {}.", dir.name, location),
            ));
        }
        for arg in &dir.arguments {
            if !dd.arguments.iter().any(|a| a.name == arg.name) {
                return Err(err(
                    arg.pos,
                    format!(
                        "Undefined argument {} for directive {}.",
                        arg.name, dir.name
                    ),
                ));
            }
        }
        for sa in &dd.arguments {
            let t = ty_of(&sa.ty)?;
            if t.non_null && sa.default_value.is_none() {
                let a = dir.arguments.iter().find(|a| a.name == sa.name);
                let null = match a {
                    None => true,
                    Some(a) => match &a.value {
                        Some(v) => v.kind == KIND_NULL,
                        None => return Err(GqlError::unsupported("an argument without a value")),
                    },
                };
                if null {
                    return Err(err(
                        dir.pos,
                        format!(
                            "Argument {} for directive {} cannot be null.",
                            sa.name, dir.name
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn validate_implements(schema: &Schema, def: &Definition, intf_name: &str) -> Result<(), GqlError> {
    let Some(intf) = schema.types.get(intf_name) else {
        return Err(err(
            def.pos,
            format!("Undefined type {}.", go_quote(intf_name)),
        ));
    };
    if intf.kind != "INTERFACE" {
        return Err(err(
            def.pos,
            format!(
                "{} is a non interface type {}.",
                go_quote(intf_name),
                intf.kind
            ),
        ));
    }
    for rf in &intf.fields {
        let Some(ff) = def.fields.iter().find(|f| f.name == rf.name) else {
            return Err(err(
                def.pos,
                format!(
                    "For {} to implement {} it must have a field called {}.",
                    def.name, intf.name, rf.name
                ),
            ));
        };
        let rt = ty_of(&rf.ty)?;
        if !is_covariant(schema, rt, ty_of(&ff.ty)?, 0)? {
            return Err(err(
                ff.pos,
                format!(
                    "For {} to implement {} the field {} must have type {}.",
                    def.name,
                    intf.name,
                    rf.name,
                    rt.to_gql_string()
                ),
            ));
        }
        for ra in &rf.arguments {
            let Some(fa) = ff.arguments.iter().find(|a| a.name == ra.name) else {
                return Err(err(
                    ff.pos,
                    format!(
                        "For {} to implement {} the field {} must have the same arguments but it is missing {}.",
                        def.name, intf.name, rf.name, ra.name
                    ),
                ));
            };
            if !is_compatible(ty_of(&ra.ty)?, ty_of(&fa.ty)?)? {
                return Err(err(
                    fa.pos,
                    format!(
                        "For {} to implement {} the field {} must have the same arguments but {} has the wrong type.",
                        def.name, intf.name, rf.name, ra.name
                    ),
                ));
            }
        }
        for fa in &ff.arguments {
            if !rf.arguments.iter().any(|a| a.name == fa.name)
                && ty_of(&fa.ty)?.non_null
                && fa.default_value.is_none()
            {
                return Err(err(
                    fa.pos,
                    format!(
                        "For {} to implement {} any additional arguments on {} must be optional or have a default value but {} is required.",
                        def.name, intf.name, ff.name, fa.name
                    ),
                ));
            }
        }
    }
    for transitive in &intf.interfaces {
        if !def.interfaces.contains(transitive) {
            if *transitive == def.name {
                return Err(err(
                    def.pos,
                    format!(
                        "Type {} cannot implement {} because it would create a circular reference.",
                        def.name, intf_name
                    ),
                ));
            }
            return Err(err(
                def.pos,
                format!(
                    "Type {} must implement {} because it is implemented by {}.",
                    def.name, transitive, intf_name
                ),
            ));
        }
    }
    Ok(())
}

/// `Type.IsCompatible`.
pub fn is_compatible(t: &Type, other: &Type) -> Result<bool, GqlError> {
    if t.named != other.named {
        return Ok(false);
    }
    if t.elem.is_some() && other.elem.is_none() {
        return Ok(false);
    }
    if let Some(e) = &t.elem {
        let Some(oe) = &other.elem else {
            return Ok(false);
        };
        if !is_compatible(e, oe)? {
            return Ok(false);
        }
    }
    if other.non_null {
        return Ok(t.non_null);
    }
    Ok(true)
}

fn is_covariant(
    schema: &Schema,
    required: &Type,
    actual: &Type,
    depth: usize,
) -> Result<bool, GqlError> {
    if depth > 4096 {
        return Err(GqlError::unsupported("types nested over 4096 levels"));
    }
    if required.non_null && !actual.non_null {
        return Ok(false);
    }
    if !required.named.is_empty() {
        if required.named == actual.named {
            return Ok(true);
        }
        for pt in schema
            .possible_types
            .get(&required.named)
            .into_iter()
            .flatten()
        {
            match pt {
                Some(n) if *n == actual.named => return Ok(true),
                Some(_) => {}
                None => return Err(GqlError::unsupported("a union of an undefined type")),
            }
        }
        return Ok(false);
    }
    let (Some(re), ae) = (&required.elem, &actual.elem) else {
        return Err(GqlError::unsupported("a type with no name and no element"));
    };
    let Some(ae) = ae else {
        return Ok(false);
    };
    is_covariant(schema, re, ae, depth + 1)
}

fn validate_name(pos: Option<Pos>, name: &str) -> Result<(), GqlError> {
    if name.starts_with("__") {
        return Err(err(
            pos,
            format!(
                "Name \"{name}\" must not begin with \"__\", which is reserved by GraphQL introspection."
            ),
        ));
    }
    Ok(())
}
