//! JavaScript casing of the shapes cos defines (ADR-0020): the crates'
//! option and result structs are snake_case (Python's casing); JavaScript
//! sees their fields in camelCase. Only the names of struct fields are
//! renamed (on the way out, [`Camel`] renames what serde serializes as a
//! struct; on the way in, [`options`] renames the keys a struct declares),
//! never the keys of maps: inputs, policy documents, SBOMs, headers and
//! other user data cross unchanged.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde::ser::{self, Serialize, Serializer};
use serde_json::Value;

use crate::{Result, invalid_arg};

/// `verified_at` → `verifiedAt`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        if c == '_' && !out.is_empty() {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The camelCase form of a struct field name, as `&'static str` (serde's
/// struct serializers take static names; the set of names is the fixed set
/// of cos's struct fields, so each is allocated once).
fn camel_static(name: &'static str) -> &'static str {
    // serde_json's own private names, and names with nothing to change.
    if name.starts_with('$') || !name.contains('_') {
        return name;
    }
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Mutex::default);
    let Ok(mut names) = names.lock() else {
        return name;
    };
    names
        .entry(name)
        .or_insert_with(|| Box::leak(camel(name).into_boxed_str()))
}

/// Reads a JavaScript options object (already JSON) into the crate's
/// options struct `T`: its declared fields are written in camelCase
/// (`stateDir`), and a key that is not one of them is refused, naming the
/// fields; a `null` value is an option not given. Values are not renamed
/// (a `headers` map stays as given).
pub fn options<T: serde::de::DeserializeOwned>(v: Option<Value>, what: &str) -> Result<T> {
    let fields = cos_core::shape::fields::<T>();
    let object = match v {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid_arg(format!("{what} must be an object"))),
    };
    let mut renamed = serde_json::Map::with_capacity(object.len());
    for (key, value) in object {
        // `null` is "not given", as napi-rs reads an optional property.
        if value.is_null() {
            continue;
        }
        let Some(field) = fields.iter().find(|f| camel(f) == key) else {
            let known: Vec<String> = fields.iter().map(|f| camel(f)).collect();
            return Err(invalid_arg(format!(
                "{what}: unknown option `{key}` (expected one of {})",
                known.join(", ")
            )));
        };
        renamed.insert((*field).to_owned(), value);
    }
    serde_json::from_value(Value::Object(renamed))
        .map_err(|e| invalid_arg(format!("{what}: {}", camel_message(&e.to_string(), fields))))
}

/// [`options`], accepting only the fields `among` (an options object that
/// is a part of a larger crate struct, e.g. `Sbom.fromCargoMetadata`'s
/// `packages` of `GenerateOptions`).
pub fn options_among<T: serde::de::DeserializeOwned>(
    v: Option<Value>,
    what: &str,
    among: &[&str],
) -> Result<T> {
    if let Some(Value::Object(o)) = &v
        && let Some(key) = o.keys().find(|k| !among.iter().any(|f| camel(f) == **k))
    {
        let known: Vec<String> = among.iter().map(|f| camel(f)).collect();
        return Err(invalid_arg(format!(
            "{what}: unknown option `{key}` (expected one of {})",
            known.join(", ")
        )));
    }
    options(v, what)
}

/// Reads a shape cos gave JavaScript back (a `Decision` passed to
/// `DecisionLogger.eventForDecision`): the top-level keys the struct `T`
/// declares are taken in camelCase; other keys pass as they are (the
/// struct decides whether it accepts them).
pub fn from_js<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T> {
    let fields = cos_core::shape::fields::<T>();
    let v = match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| match fields.iter().find(|f| camel(f) == k) {
                    Some(f) => ((*f).to_owned(), x),
                    None => (k, x),
                })
                .collect(),
        ),
        other => other,
    };
    serde_json::from_value(v).map_err(|e| {
        invalid_arg(format!(
            "not a {what}: {}",
            camel_message(&e.to_string(), fields)
        ))
    })
}

/// A serde message about a field names it as JavaScript does.
fn camel_message(message: &str, fields: &[&str]) -> String {
    let mut m = message.to_owned();
    for f in fields {
        if f.contains('_') {
            m = m.replace(&format!("`{f}`"), &format!("`{}`", camel(f)));
        }
    }
    m
}

/// `T` serialized with its struct fields in camelCase.
pub struct Camel<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Camel<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(CamelSerializer(s))
    }
}

/// JSON text of `v`, cos's struct fields in camelCase.
pub fn to_text<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(&Camel(v)).map_err(|e| invalid_arg(e.to_string()))
}

/// A JSON value of `v`, cos's struct fields in camelCase.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> Result<Value> {
    serde_json::to_value(Camel(v)).map_err(|e| invalid_arg(e.to_string()))
}

struct CamelSerializer<S>(S);

struct Wrap<S>(S);

impl<S: ser::SerializeSeq> ser::SerializeSeq for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_element(&Camel(v))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTuple> ser::SerializeTuple for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_element(&Camel(v))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleStruct> ser::SerializeTupleStruct for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_field(&Camel(v))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleVariant> ser::SerializeTupleVariant for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_field(&Camel(v))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// Map keys are user data (or cos's own map keys): kept; values wrapped.
impl<S: ser::SerializeMap> ser::SerializeMap for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> std::result::Result<(), S::Error> {
        self.0.serialize_key(k)
    }
    fn serialize_value<T: Serialize + ?Sized>(
        &mut self,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_value(&Camel(v))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStruct> ser::SerializeStruct for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_field(camel_static(key), &Camel(v))
    }
    fn skip_field(&mut self, key: &'static str) -> std::result::Result<(), S::Error> {
        self.0.skip_field(camel_static(key))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStructVariant> ser::SerializeStructVariant for Wrap<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> std::result::Result<(), S::Error> {
        self.0.serialize_field(camel_static(key), &Camel(v))
    }
    fn skip_field(&mut self, key: &'static str) -> std::result::Result<(), S::Error> {
        self.0.skip_field(camel_static(key))
    }
    fn end(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: Serializer> Serializer for CamelSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Wrap<S::SerializeSeq>;
    type SerializeTuple = Wrap<S::SerializeTuple>;
    type SerializeTupleStruct = Wrap<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Wrap<S::SerializeTupleVariant>;
    type SerializeMap = Wrap<S::SerializeMap>;
    type SerializeStruct = Wrap<S::SerializeStruct>;
    type SerializeStructVariant = Wrap<S::SerializeStructVariant>;

    fn serialize_bool(self, v: bool) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_bytes(v)
    }
    fn serialize_none(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_some(&Camel(v))
    }
    fn serialize_unit(self) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> std::result::Result<S::Ok, S::Error> {
        // A variant name is a value (`"if_present"`), not a field: kept.
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Camel(v))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Camel(v))
    }
    fn serialize_seq(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Wrap)
    }
    fn serialize_tuple(self, len: usize) -> std::result::Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Wrap)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Wrap)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Wrap)
    }
    fn serialize_map(
        self,
        len: Option<usize>,
    ) -> std::result::Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Wrap)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Wrap)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Wrap)
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Info {
        verified_at: &'static str,
        user_doc: Value,
        nested: Option<Inner>,
    }

    #[derive(serde::Serialize)]
    struct Inner {
        archive_digest: &'static str,
    }

    #[test]
    fn renames_struct_fields_only() {
        let v = to_value(&Info {
            verified_at: "t",
            user_doc: serde_json::json!({"snake_key": {"deep_key": 1}}),
            nested: Some(Inner {
                archive_digest: "d",
            }),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"verifiedAt": "t", "userDoc": {"snake_key": {"deep_key": 1}}, "nested": {"archiveDigest": "d"}})
        );
    }

    #[test]
    fn options_take_camel_case_only() {
        let o: cos_policy::store::StoreConfig = options(
            Some(serde_json::json!({"stateDir": "/s", "minSamples": 5})),
            "o",
        )
        .unwrap();
        assert_eq!(o.min_samples, 5);
        assert!(
            options::<cos_policy::store::StoreConfig>(
                Some(serde_json::json!({"state_dir": "/s"})),
                "o"
            )
            .is_err()
        );
    }
}
