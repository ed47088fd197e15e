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

/// Resolves a field that was absent (or `null`) in the input to its default, or fails.
macro_rules! wire_default {
    (required, $name:expr) => {
        return Err(serde::de::Error::missing_field($name))
    };
    (default, $name:expr) => {
        Default::default()
    };
    (($value:expr), $name:expr) => {
        $value
    };
}

/// Declares a schema struct whose unknown fields are kept in `unknown` and written back.
///
/// Fields are `pub(crate)`: outside the crate they are read through getters and changed only by
/// the validated transitions, inside it the validation and recording modules use them directly.
///
/// Each field names its default when the input lacks it: `required` (an error), `default`
/// (`Default::default()`), or a parenthesised expression. A `null` value counts as absent,
/// because the Python dashboard writes `None` for fields it has no value for.
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
        #[derive(serde::Serialize)]
        pub struct $name {
            $(
                $(#[$field_attr])*
                pub(crate) $field: $ty,
            )*
            /// Fields this version does not know, written back unchanged.
            #[serde(flatten)]
            pub(crate) unknown: $crate::wire::UnknownFields,
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
                        Ok($name {
                            $(
                                $field: match $field.flatten() {
                                    Some(value) => value,
                                    None => wire_default!($default, stringify!($field)),
                                },
                            )*
                            unknown,
                        })
                    }
                }
                deserializer.deserialize_map(StructVisitor)
            }
        }
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

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let key = $crate::wire::Key::deserialize(deserializer)?;
                Ok($name::from_wire(&key.0))
            }
        }
    };
}
