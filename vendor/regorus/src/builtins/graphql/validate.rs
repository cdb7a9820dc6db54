// Copyright (c) Microsoft Corporation.
// Licensed under the MIT License.
//! Query validation against a schema (gqlparser's default rules, which OPA
//! enables): not ported yet, so every validation fails loudly.

use super::ast::QueryDocument;
use super::schema::Schema;
use super::GqlError;
use alloc::vec;
use alloc::vec::Vec;

pub fn validate(_schema: &Schema, _doc: &QueryDocument) -> Vec<GqlError> {
    vec![GqlError::unsupported(
        "validating a query against a schema (gqlparser's validation rules are not ported)",
    )]
}
