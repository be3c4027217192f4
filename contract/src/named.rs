//! Fieldless enums whose names (YAML, JSON, SQL, messages) are written once, beside their
//! variants: the enum, its `ALL`, `name()`, `from_name()` and its serde form all come from
//! that one list, so no hand-written `match` can spell a name differently from the wire.

/// `named_enum! { pub enum Kind { A = "a", B = "b", } }` declares the enum (with the attributes
/// given) and `Kind::ALL`, `Kind::name`, `Kind::from_name`, and `Serialize` / `Deserialize` as
/// exactly those strings. An unknown name is refused with serde's own `unknown variant` error.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            const NAMES: &'static [&'static str] = &[$($text),+];

            /// Its name in YAML, JSON and the logs' SQL.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The variant of that name.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                struct Name;
                impl serde::de::Visitor<'_> for Name {
                    type Value = $name;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        write!(f, "one of {:?}", $name::NAMES)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_name(v).ok_or_else(|| E::unknown_variant(v, $name::NAMES))
                    }
                }
                d.deserialize_str(Name)
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    named_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Fruit {
            Apple = "apple",
            /// Doc comments stay on their variant.
            BloodOrange = "blood_orange",
        }
    }

    #[test]
    fn names_are_the_wire_form_both_ways() {
        assert_eq!(Fruit::ALL, [Fruit::Apple, Fruit::BloodOrange]);
        assert_eq!(serde_json::to_string(&Fruit::BloodOrange).unwrap(), "\"blood_orange\"");
        assert_eq!(serde_json::from_str::<Fruit>("\"blood_orange\"").unwrap(), Fruit::BloodOrange);
        assert_eq!(Fruit::from_name("apple"), Some(Fruit::Apple));
        assert_eq!(Fruit::from_name("Apple"), None);
    }

    #[test]
    fn an_unknown_name_is_refused_as_serde_refuses_it() {
        let e = serde_json::from_str::<Fruit>("\"pear\"").unwrap_err().to_string();
        assert!(e.starts_with("unknown variant `pear`, expected `apple` or `blood_orange`"), "{e}");
        assert!(serde_json::from_str::<Fruit>("3").is_err());
    }
}
