//! How ids cross the wire: as strings, since 64-bit ids do not survive
//! JavaScript numbers; accepted as strings or numbers.

use serde::{Deserialize, Deserializer, Serializer};

/// Ids are strings on the wire: 64-bit ids do not survive JavaScript numbers.
pub fn id_string<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

/// Accepts an id as a string (as we send them) or a JSON number.
pub fn id_from_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(i64),
    }
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(t) => t
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("an id is a string of digits")),
    }
}
