//! Serde plumbing shared by the schema types: a derive-like macro that keeps unknown fields,
//! and string enums that keep values they do not know.
//!
//! `#[serde(flatten)]` could keep unknown fields, but it buffers every struct into an untyped
//! tree first, which is slower and hides the path of an error (`events[3].total_tokens`) from
//! `serde_path_to_error`. The visitor generated here reads each known field straight into its
//! type and collects the rest in a map, so errors keep their path and loading stays fast.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Fields this version does not know, kept verbatim so that writing the value back loses nothing.
pub(crate) type UnknownFields = serde_json::Map<String, serde_json::Value>;

/// A map key that borrows from the input when it can, to avoid an allocation per field.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// How a field of a record was written in the file, when writing its value back as typed
/// would change it. Fields read as their type and spelled as we spell them have no note.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Note {
    /// The key was not in the record: it is not written back.
    Absent,
    /// The value was read (an explicit `null` as the field's default, an integral float
    /// such as `1000.0` as the count 1000) but is written back exactly as found.
    Verbatim(serde_json::Value),
    /// The value could not be read as the field's type: the field holds its default, the
    /// value is written back exactly as found, and validation reports it.
    Unreadable(serde_json::Value),
}

/// What a record's file text said beyond its typed fields: notes on fields that must be
/// written back as found, and the whole record when it was not a JSON object at all.
///
/// Empty (and allocation-free) for every record this crate writes, so the bookkeeping costs
/// nothing on the hot path. A transition that rewrites a record calls [`WireNotes::clear`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct WireNotes {
    fields: Vec<(usize, Note)>,
    /// The record was not an object (e.g. a number in `events`): kept and written verbatim.
    opaque: Option<Box<serde_json::Value>>,
}

impl WireNotes {
    pub(crate) fn note(&self, field: usize) -> Option<&Note> {
        self.fields.iter().find(|(idx, _)| *idx == field).map(|(_, note)| note)
    }

    pub(crate) fn add(&mut self, field: usize, note: Note) {
        self.fields.push((field, note));
    }

    pub(crate) fn opaque(&self) -> Option<&serde_json::Value> {
        self.opaque.as_deref()
    }

    pub(crate) fn set_opaque(&mut self, value: serde_json::Value) {
        self.opaque = Some(Box::new(value));
    }

    /// Whether any field could not be read, or the record is not an object.
    pub(crate) fn has_unreadable(&self) -> bool {
        self.opaque.is_some()
            || self.fields.iter().any(|(_, note)| matches!(note, Note::Unreadable(_)))
    }

    /// Forgets every note: the record is written back from its typed fields.
    pub(crate) fn clear(&mut self) {
        self.fields.clear();
        self.opaque = None;
    }

    /// Forgets the note of one field, which a transition just set.
    pub(crate) fn set(&mut self, field: usize) {
        self.fields.retain(|(idx, _)| *idx != field);
    }
}

/// Whether a field's type, as `stringify!` spells it, is an `Option`.
pub(crate) const fn is_option_type(spelled: &str) -> bool {
    let (bytes, prefix) = (spelled.as_bytes(), b"Option");
    if bytes.len() < prefix.len() {
        return false;
    }
    let mut idx = 0;
    while idx < prefix.len() {
        if bytes[idx] != prefix[idx] {
            return false;
        }
        idx += 1;
    }
    true
}

/// Reading a field's value from an already parsed JSON value, without failing: the lenient
/// path, taken only for files the strict parse refused (see `DashboardState::load`).
pub(crate) trait Lenient: Sized {
    /// The value as this type; `Ok((value, true))` when it was read but is spelled
    /// differently from how this type writes it (an integral float for a count); `Err` with
    /// the value when it cannot be read.
    fn from_value(value: serde_json::Value) -> Result<(Self, bool), serde_json::Value>;
}

/// Implements [`Lenient`] through the type's own `Deserialize`, accepting an integral float
/// (`1000.0`) where an integer is expected, as Python's `json` may write one.
macro_rules! lenient_via_serde {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::wire::Lenient for $ty {
            fn from_value(
                value: serde_json::Value,
            ) -> Result<(Self, bool), serde_json::Value> {
                use serde::Deserialize;
                if let Ok(typed) = <$ty>::deserialize(&value) {
                    return Ok((typed, false));
                }
                let integral = value.as_f64().filter(|float| {
                    float.fract() == 0.0 && float.abs() < 9.0e15 && value.is_f64()
                });
                if let Some(float) = integral
                    && let Ok(typed) = <$ty>::deserialize(&serde_json::Value::from(float as i64))
                {
                    return Ok((typed, true));
                }
                Err(value)
            }
        }
    )*};
}

lenient_via_serde!(String, u64, i64, f64, Option<i64>, Vec<String>);

/// Declares a schema struct that reads the Python dashboard's files faithfully.
///
/// Fields are `pub(crate)`: outside the crate they are read through getters and changed only by
/// the validated transitions, inside it the validation and recording modules use them directly.
///
/// Each field names its default, taken when the input lacks it or holds `null`:
/// `required` (`Default::default()`, and validation reports the field as missing), `default`,
/// or a parenthesised expression. What the file said is kept in `wire` ([`WireNotes`]) and
/// written back: a missing field stays missing, a `null` stays `null`, a value that could not
/// be read is written back as it was. Unknown fields are kept in `unknown` and written back.
///
/// Deserialization (the strict, fast path) fails on a value of the wrong type;
/// `from_value_lenient` (the slow path) never fails.
macro_rules! wire_struct {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                $field:ident : $ty:ty = $default:tt
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $(
                $(#[$field_attr])*
                pub(crate) $field: $ty,
            )*
            /// Fields this version does not know, written back unchanged.
            pub(crate) unknown: $crate::wire::UnknownFields,
            /// How the file spelled what the typed fields cannot say; see `WireNotes`.
            pub(crate) wire: $crate::wire::WireNotes,
        }

        #[allow(non_camel_case_types, clippy::enum_variant_names, reason = "one variant per field, named as the field")]
        #[derive(Clone, Copy)]
        pub(crate) enum FieldIndex { $($field,)* }

        impl $name {
            /// The JSON names of the fields, in declaration order.
            pub(crate) const FIELD_NAMES: &[&str] = &[$(stringify!($field)),*];
            /// Which fields are `Option`s, whose `None` is written as `null`: a `null` read
            /// into them needs no note.
            pub(crate) const OPTIONAL: &[bool] =
                &[$($crate::wire::is_option_type(stringify!($ty))),*];
            /// Which fields validation reports when missing.
            pub(crate) const REQUIRED: &[bool] = &[$(wire_required!($default)),*];

            /// A record with every field at its default and no notes.
            #[allow(dead_code, reason = "used by the lenient path of some records only")]
            pub(crate) fn all_defaults() -> $name {
                $name {
                    $( $field: wire_default!($default), )*
                    unknown: Default::default(),
                    wire: Default::default(),
                }
            }

            /// Reads a record from a parsed JSON value, never failing: what cannot be read is
            /// kept verbatim (see `WireNotes`).
            pub(crate) fn from_value_lenient(value: serde_json::Value) -> $name {
                let mut record = $name::all_defaults();
                let serde_json::Value::Object(mut map) = value else {
                    record.wire.set_opaque(value);
                    return record;
                };
                $(
                    match map.shift_remove(stringify!($field)) {
                        None => record.wire.add(
                            FieldIndex::$field as usize,
                            $crate::wire::Note::Absent,
                        ),
                        Some(serde_json::Value::Null) => {
                            if !$name::OPTIONAL[FieldIndex::$field as usize] {
                                record.wire.add(
                                    FieldIndex::$field as usize,
                                    $crate::wire::Note::Verbatim(serde_json::Value::Null),
                                );
                            }
                        }
                        Some(found) => {
                            let original = found.clone();
                            match <$ty as $crate::wire::Lenient>::from_value(found) {
                                Ok((typed, respelled)) => {
                                    record.$field = typed;
                                    if respelled {
                                        record.wire.add(
                                            FieldIndex::$field as usize,
                                            $crate::wire::Note::Verbatim(original),
                                        );
                                    }
                                }
                                Err(found) => record.wire.add(
                                    FieldIndex::$field as usize,
                                    $crate::wire::Note::Unreadable(found),
                                ),
                            }
                        }
                    }
                )*
                record.unknown = map;
                record
            }

            /// Reports every field that is missing though required, or could not be read,
            /// and a record that is not an object.
            pub(crate) fn wire_findings(
                &self,
                report: &mut $crate::validate::Report,
                prefix: $crate::validate::Prefix<'_>,
            ) {
                if let Some(opaque) = self.wire.opaque() {
                    report.not_an_object(prefix, opaque);
                    return;
                }
                for (idx, name) in $name::FIELD_NAMES.iter().enumerate() {
                    match self.wire.note(idx) {
                        Some($crate::wire::Note::Unreadable(found)) => {
                            report.unreadable(prefix, name, found);
                        }
                        Some($crate::wire::Note::Absent) if $name::REQUIRED[idx] => {
                            report.missing(prefix, name, "is missing");
                        }
                        Some($crate::wire::Note::Verbatim(serde_json::Value::Null))
                            if $name::REQUIRED[idx] =>
                        {
                            report.missing(prefix, name, "is null");
                        }
                        _ => {}
                    }
                }
            }

            /// Whether validation can trust the typed value of a field (it was read, not
            /// defaulted for a missing, null or unreadable value).
            #[allow(dead_code, reason = "used by the rules of some records only")]
            pub(crate) fn is_read(&self, field: FieldIndex) -> bool {
                self.wire.opaque().is_none()
                    && !matches!(
                        self.wire.note(field as usize),
                        Some(
                            $crate::wire::Note::Absent
                                | $crate::wire::Note::Unreadable(_)
                                | $crate::wire::Note::Verbatim(serde_json::Value::Null)
                        )
                    )
            }
        }

        impl $crate::wire::Lenient for $name {
            fn from_value(
                value: serde_json::Value,
            ) -> Result<(Self, bool), serde_json::Value> {
                Ok(($name::from_value_lenient(value), false))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                if let Some(opaque) = self.wire.opaque() {
                    return opaque.serialize(serializer);
                }
                let mut map = serializer.serialize_map(None)?;
                $(
                    match self.wire.note(FieldIndex::$field as usize) {
                        None => map.serialize_entry(stringify!($field), &self.$field)?,
                        Some($crate::wire::Note::Absent) => {}
                        Some(
                            $crate::wire::Note::Verbatim(found)
                            | $crate::wire::Note::Unreadable(found),
                        ) => map.serialize_entry(stringify!($field), found)?,
                    }
                )*
                for (key, value) in &self.unknown {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct StructVisitor;
                impl<'de> serde::de::Visitor<'de> for StructVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<M: serde::de::MapAccess<'de>>(
                        self,
                        mut map: M,
                    ) -> Result<$name, M::Error> {
                        $( let mut $field: Option<Option<$ty>> = None; )*
                        let mut unknown = $crate::wire::UnknownFields::new();
                        while let Some(key) = map.next_key::<$crate::wire::Key<'de>>()? {
                            match &*key.0 {
                                $(
                                    stringify!($field) => {
                                        if $field.is_some() {
                                            return Err(serde::de::Error::duplicate_field(
                                                stringify!($field),
                                            ));
                                        }
                                        $field = Some(map.next_value::<Option<$ty>>()?);
                                    }
                                )*
                                _ => {
                                    let value = map.next_value::<serde_json::Value>()?;
                                    unknown.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        let mut wire = $crate::wire::WireNotes::default();
                        Ok($name {
                            $(
                                $field: match $field {
                                    Some(Some(value)) => value,
                                    Some(None) => {
                                        if !$name::OPTIONAL[FieldIndex::$field as usize] {
                                            wire.add(
                                                FieldIndex::$field as usize,
                                                $crate::wire::Note::Verbatim(
                                                    serde_json::Value::Null,
                                                ),
                                            );
                                        }
                                        wire_default!($default)
                                    }
                                    None => {
                                        wire.add(
                                            FieldIndex::$field as usize,
                                            $crate::wire::Note::Absent,
                                        );
                                        wire_default!($default)
                                    }
                                },
                            )*
                            unknown,
                            wire,
                        })
                    }
                }
                deserializer.deserialize_map(StructVisitor)
            }
        }
    };
}

/// The default of a field that was absent or `null`.
macro_rules! wire_default {
    (required) => {
        Default::default()
    };
    (default) => {
        Default::default()
    };
    (($value:expr)) => {
        $value
    };
}

/// Whether a field is reported when missing.
macro_rules! wire_required {
    (required) => {
        true
    };
    (default) => {
        false
    };
    (($value:expr)) => {
        false
    };
}

/// Declares a string enum whose unknown values are kept in an `Other` variant.
macro_rules! string_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident => $text:literal
            ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                $(#[$variant_attr])*
                $variant,
            )*
            /// A value written by another tool that this version does not know; kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, in declaration order.
            pub const KNOWN: &[$name] = &[$($name::$variant),*];

            /// The value as written in the file.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }

            /// Parses a value; text that is not a known value becomes `Other`.
            pub fn from_wire(text: &str) -> $name {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Parses a known value, for user input where a typo must be an error.
            pub fn parse_known(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        lenient_via_serde!($name);

        impl Default for $name {
            /// An empty value, standing in for a missing one (validation reports it).
            fn default() -> $name {
                $name::Other(String::new())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let key = $crate::wire::Key::deserialize(deserializer)?;
                Ok($name::from_wire(&key.0))
            }
        }
    };
}
