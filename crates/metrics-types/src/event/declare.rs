//! `event_fields!`: the one list of an event's fields, from which the three faces of an event
//! are declared: the stored record ([`crate::AgentEvent`], through `wire_struct!`), the typed
//! input a Rust caller builds ([`crate::NewAgentEvent`]) and the input a writer sends as
//! JSON or flags ([`crate::EventInput`]).
//!
//! Each field is written once, with its doc comment (used by all three faces, the getter and
//! the `--help` of `agent-metrics record event`), its kind, and, after `sent as`, how a writer
//! spells it (serde aliases, clap flag names). A field of a plain kind (`label`, `free_text`,
//! `text_list`, `count`, `amount`; see `kinds.rs`) gets its three declarations, its getter,
//! its defaults, its carrying from input to record and its load rule from the kind. A
//! `special` field names its type on each face and is handled by hand in `event.rs` and
//! `input.rs`: those are the fields that are required or derived from others (id, agent,
//! times, status, total, duration).
//!
//! The macro munches one field at a time into five lists (stored, built and sent fields, the
//! plain fields' behaviour, every field's kind) and declares everything at the end.

macro_rules! event_fields {
    // The entry: three heads, then the fields.
    (
        stored: $(#[$stored_attr:meta])* pub struct $stored:ident;
        built: $(#[$built_attr:meta])* pub struct $built:ident;
        sent: $(#[$sent_attr:meta])* pub struct $sent:ident;
        fields: $($fields:tt)*
    ) => {
        event_fields!(@munch
            [$stored $built $sent [$(#[$stored_attr])*] [$(#[$built_attr])*] [$(#[$sent_attr])*]]
            [] [] [] [] []
            $($fields)*
        );
    };

    // A special field present on all three faces.
    (@munch $head:tt [$($stored:tt)*] [$($built:tt)*] [$($sent:tt)*] $plain:tt [$($kinds:tt)*]
        $(#[doc = $doc:literal])*
        $field:ident : special { stored: $stored_ty:ty = $default:tt, built: $built_ty:ty, sent: $sent_ty:ty }
        $(sent as { $(#[$sent_as:meta])* })? ;
        $($rest:tt)*
    ) => {
        event_fields!(@munch $head
            [$($stored)* $(#[doc = $doc])* $field: $stored_ty = $default,]
            [$($built)* $(#[doc = $doc])* pub $field: $built_ty,]
            [$($sent)* $(#[doc = $doc])* $($(#[$sent_as])*)? pub $field: $sent_ty,]
            $plain
            [$($kinds)* ($field special)]
            $($rest)*
        );
    };

    // A special field the caller never builds: it is derived from the others.
    (@munch $head:tt [$($stored:tt)*] $built:tt [$($sent:tt)*] $plain:tt [$($kinds:tt)*]
        $(#[doc = $doc:literal])*
        $field:ident : special { stored: $stored_ty:ty = $default:tt, sent: $sent_ty:ty }
        $(sent as { $(#[$sent_as:meta])* })? ;
        $($rest:tt)*
    ) => {
        event_fields!(@munch $head
            [$($stored)* $(#[doc = $doc])* $field: $stored_ty = $default,]
            $built
            [$($sent)* $(#[doc = $doc])* $($(#[$sent_as])*)? pub $field: $sent_ty,]
            $plain
            [$($kinds)* ($field special)]
            $($rest)*
        );
    };

    // A field of a plain kind: what the kind means is looked up below.
    (@munch $head:tt $stored:tt $built:tt $sent:tt $plain:tt $kinds:tt
        $(#[doc = $doc:literal])*
        $field:ident : $kind:ident
        $(sent as { $(#[$sent_as:meta])* })? ;
        $($rest:tt)*
    ) => {
        event_fields!(@kind $kind
            ($head $stored $built $sent $plain $kinds [$(#[doc = $doc])*] $field [$($(#[$sent_as])*)?])
            $($rest)*
        );
    };

    // The kinds: types on each face, getter, carry, load rule, and the sent face's defaults.
    (@kind label ($($state:tt)*) $($rest:tt)*) => {
        event_fields!(@plain $($state)* label
            String, String, &str = $crate::event::kinds::read_text,
            $crate::event::kinds::carry_label, $crate::event::kinds::no_rule,
            [#[serde(default)]
             #[cfg_attr(feature = "clap", arg(default_value = "", hide_default_value = true))]];
            $($rest)*
        );
    };
    (@kind free_text ($($state:tt)*) $($rest:tt)*) => {
        event_fields!(@plain $($state)* free_text
            String, String, &str = $crate::event::kinds::read_text,
            $crate::event::kinds::carry_free_text, $crate::event::kinds::no_rule,
            [#[serde(default)]
             #[cfg_attr(feature = "clap", arg(default_value = "", hide_default_value = true))]];
            $($rest)*
        );
    };
    (@kind text_list ($($state:tt)*) $($rest:tt)*) => {
        event_fields!(@plain $($state)* text_list
            Vec<String>, Vec<String>, &[String] = $crate::event::kinds::read_text_list,
            $crate::event::kinds::carry_text_list, $crate::event::kinds::no_rule,
            [#[serde(default)]];
            $($rest)*
        );
    };
    (@kind count ($($state:tt)*) $($rest:tt)*) => {
        event_fields!(@plain $($state)* count
            Option<i64>, u64, Option<u64> = $crate::event::kinds::read_count,
            $crate::event::kinds::carry_count, $crate::event::kinds::count_rule,
            [#[serde(default)]
             #[cfg_attr(feature = "clap", arg(default_value_t = 0, allow_negative_numbers = true))]];
            $($rest)*
        );
    };
    (@kind amount ($($state:tt)*) $($rest:tt)*) => {
        event_fields!(@plain $($state)* amount
            f64, f64, f64 = $crate::event::kinds::read_amount,
            $crate::event::kinds::carry_amount, $crate::event::kinds::amount_rule,
            [#[serde(default)]
             #[cfg_attr(feature = "clap", arg(default_value_t = 0.0, allow_negative_numbers = true))]];
            $($rest)*
        );
    };

    // A plain field added to the lists.
    (@plain $head:tt [$($stored:tt)*] [$($built:tt)*] [$($sent:tt)*] [$($plain:tt)*] [$($kinds:tt)*]
        [$($doc:tt)*] $field:ident [$($sent_as:tt)*] $kind:ident
        $stored_ty:ty, $built_ty:ty, $read_ty:ty = $read:path, $carry:path, $rule:path,
        [$($kind_sent_as:tt)*];
        $($rest:tt)*
    ) => {
        event_fields!(@munch $head
            [$($stored)* $($doc)* $field: $stored_ty = default,]
            [$($built)* $($doc)* pub $field: $built_ty,]
            [$($sent)* $($doc)* $($kind_sent_as)* $($sent_as)* pub $field: $built_ty,]
            [$($plain)* {[$($doc)*] $field: $read_ty = $read, $carry, $rule}]
            [$($kinds)* ($field $kind)]
            $($rest)*
        );
    };

    // Every field munched: the declarations.
    (@munch
        [$stored:ident $built:ident $sent:ident [$($stored_attr:tt)*] [$($built_attr:tt)*] [$($sent_attr:tt)*]]
        [$($stored_fields:tt)*]
        [$($(#[doc = $built_doc:literal])* pub $built_field:ident : $built_ty:ty,)*]
        [$($sent_fields:tt)*]
        [$({[$($doc:tt)*] $plain:ident : $read_ty:ty = $read:path, $carry:path, $rule:path})*]
        [$(($any:ident $kind:ident))*]
    ) => {
        wire_struct! {
            $($stored_attr)*
            pub struct $stored { $($stored_fields)* }
        }

        $($built_attr)*
        pub struct $built {
            $( $(#[doc = $built_doc])* pub $built_field: $built_ty, )*
        }

        impl $built {
            /// Every field at its type's default: what `new` starts from.
            pub(crate) fn blank() -> $built {
                $built { $( $built_field: Default::default(), )* }
            }
        }

        $($sent_attr)*
        pub struct $sent { $($sent_fields)* }

        impl $stored {
            $(
                $($doc)*
                pub fn $plain(&self) -> $read_ty {
                    $read(&self.$plain)
                }
            )*

            /// Every field's name and kind, in file order (for tests that cover each kind).
            #[cfg(test)]
            pub(crate) const FIELD_KINDS: &[(&str, &str)] =
                &[$((stringify!($any), stringify!($kind))),*];

            /// Moves every plain field of `input` into `self` as its kind carries it, adding
            /// to `early` what its kind refuses.
            fn carry_plain_fields(
                &mut self,
                input: &mut $built,
                early: &mut Vec<$crate::Violation>,
            ) {
                $(
                    self.$plain =
                        $carry(stringify!($plain), std::mem::take(&mut input.$plain), early);
                )*
            }

            /// The load rules of the plain fields.
            pub(crate) fn plain_field_rules(
                &self,
                report: &mut $crate::validate::Report,
                prefix: $crate::validate::Prefix<'_>,
            ) {
                $( $rule(report, prefix, stringify!($plain), &self.$plain); )*
            }
        }

        impl $sent {
            /// Moves every plain field into `built`, where they have the same type.
            pub(crate) fn carry_plain_fields(&mut self, built: &mut $built) {
                $( built.$plain = std::mem::take(&mut self.$plain); )*
            }
        }
    };
}
