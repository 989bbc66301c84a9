//! A kind's tables in a section of components (`[sinks]`, `[outputs]`), read into one `Vec` whether the file
//! writes `[[SECTION.KIND]]` (an array of tables) or `[SECTION.KIND]` (one table). Kinds written once (the
//! dashboard, the Kafka output) are refused a second table by their registry, not here.

use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "crate::config::one_or_many")]` on a `Vec` field. serde's own errors
/// (unknown keys with their line) come through unchanged, as they would not through an untagged enum.
pub fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

struct OneOrMany<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OneOrMany<T> {
    type Value = Vec<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a table or an array of tables")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Vec<T>, M::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|one| vec![one])
    }

    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, seq: S) -> Result<Vec<T>, S::Error> {
        Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
    }
}
