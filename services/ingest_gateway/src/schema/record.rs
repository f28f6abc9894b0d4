//! [`Record`]: a raw record, field name → JSON value, in input order.
//!
//! A small vector rather than a hash map: records carry a handful of keys, and
//! hashing every key of every record (serde_json's `Map` is an `IndexMap` with
//! SipHash) was over a tenth of the gateway's CPU profile. Duplicate keys keep
//! JSON's last-wins semantics at the first key's position, as `Map` did.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Records with more keys than this check duplicates with a hash set.
const LINEAR_DEDUP_MAX: usize = 16;

/// A raw record as decoded, before normalization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    fields: Vec<(String, Value)>,
}

static NULL: Value = Value::Null;

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`: replaces an existing value in place, else appends.
    pub fn insert(&mut self, key: String, value: Value) {
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Does the record have `key`?
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// No fields at all?
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.fields.clear();
    }

    /// The fields in input order.
    pub fn iter(&self) -> std::slice::Iter<'_, (String, Value)> {
        self.fields.iter()
    }

    /// As a `serde_json` map (same order).
    pub fn into_map(self) -> Map<String, Value> {
        self.fields.into_iter().collect()
    }

    /// As a JSON object value (for tests and debugging).
    pub fn to_value(&self) -> Value {
        Value::Object(self.clone().into_map())
    }

    /// Collapses duplicate keys (last value wins, first position kept).
    fn dedup(&mut self) {
        let n = self.fields.len();
        let has_dup = if n <= LINEAR_DEDUP_MAX {
            (1..n).any(|i| self.fields[..i].iter().any(|(k, _)| *k == self.fields[i].0))
        } else {
            let mut seen = HashSet::with_capacity(n);
            !self.fields.iter().all(|(k, _)| seen.insert(k.as_str()))
        };
        if has_dup {
            let mut map = Map::new();
            for (k, v) in self.fields.drain(..) {
                map.insert(k, v);
            }
            self.fields = map.into_iter().collect();
        }
    }

    /// Reads a JSON object's entries (used by the decoders' visitors).
    pub(crate) fn from_map_access<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        let mut rec = Record { fields };
        rec.dedup();
        Ok(rec)
    }
}

impl std::ops::Index<&str> for Record {
    type Output = Value;

    /// The value of `key`, `Null` when absent (like `serde_json::Value`).
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl IntoIterator for Record {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

impl<'a> IntoIterator for &'a Record {
    type Item = &'a (String, Value);
    type IntoIter = std::slice::Iter<'a, (String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter()
    }
}

impl From<Map<String, Value>> for Record {
    fn from(map: Map<String, Value>) -> Self {
        Record {
            fields: map.into_iter().collect(),
        }
    }
}

impl FromIterator<(String, Value)> for Record {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut rec = Record {
            fields: iter.into_iter().collect(),
        };
        rec.dedup();
        rec
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RecordVisitor;
        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Record, A::Error> {
                Record::from_map_access(map)
            }
        }
        d.deserialize_map(RecordVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_kept_and_duplicates_last_win_in_place() {
        let r: Record = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(r.to_value().to_string(), r#"{"b":3,"a":2}"#);
        let many: String = (0..40).map(|i| format!("\"k{}\":{i},", i % 30)).collect();
        let r: Record = serde_json::from_str(&format!("{{{}\"z\":0}}", many)).unwrap();
        assert_eq!(r.len(), 31);
        assert_eq!(r["k5"], json!(35));
        assert_eq!(r["missing"], Value::Null);
    }
}
