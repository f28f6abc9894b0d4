//! A minimal protobuf wire-format walker for the outer, repeated layers of the
//! protobuf decoders ([`super::otlp_proto`], [`super::loki`]).
//!
//! The decoders walk the request and its streams / resource logs field by field
//! and hand each log record (entry) to `prost` one at a time, so a body of
//! millions of tiny records never becomes one huge `Vec` of structs before the
//! record limit is checked. Every length is checked against the bytes left;
//! varints longer than 10 bytes, tag 0, group wire types (deprecated, never
//! used by these protocols) and unknown wire types are errors.

use super::DecodeError;

/// One field's payload, by wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1 (fixed64, sfixed64, double).
    I64(u64),
    /// Wire type 2 (strings, bytes, messages, packed repeated).
    Len(&'a [u8]),
    /// Wire type 5 (fixed32, sfixed32, float).
    I32(u32),
}

impl<'a> Field<'a> {
    /// The bytes of a length-delimited field; any other wire type is an error.
    pub(super) fn bytes(
        self,
        tag: u32,
        err: fn(String) -> DecodeError,
    ) -> Result<&'a [u8], DecodeError> {
        match self {
            Field::Len(b) => Ok(b),
            other => Err(err(format!(
                "field {tag} has wire type {}, expected length-delimited",
                other.wire_name()
            ))),
        }
    }

    fn wire_name(self) -> &'static str {
        match self {
            Field::Varint(_) => "varint",
            Field::I64(_) => "64-bit",
            Field::Len(_) => "length-delimited",
            Field::I32(_) => "32-bit",
        }
    }
}

/// Calls `f(tag, field)` for every field of the message in `buf`, in wire order.
/// Malformed wire data is reported through `err`; `f`'s own errors pass through.
pub(super) fn walk<'a>(
    mut buf: &'a [u8],
    err: fn(String) -> DecodeError,
    mut f: impl FnMut(u32, Field<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    while !buf.is_empty() {
        let key = varint(&mut buf).ok_or_else(|| err("truncated or overlong field key".into()))?;
        let tag = u32::try_from(key >> 3)
            .ok()
            .filter(|t| *t != 0)
            .ok_or_else(|| err(format!("invalid field tag {}", key >> 3)))?;
        let field = match key & 7 {
            0 => Field::Varint(
                varint(&mut buf).ok_or_else(|| err(format!("field {tag}: truncated varint")))?,
            ),
            1 => {
                let (head, rest) =
                    split(buf, 8).ok_or_else(|| err(format!("field {tag}: truncated fixed64")))?;
                buf = rest;
                Field::I64(u64::from_le_bytes(head.try_into().unwrap_or_default()))
            }
            2 => {
                let len = varint(&mut buf)
                    .ok_or_else(|| err(format!("field {tag}: truncated length")))?;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let (head, rest) = split(buf, len).ok_or_else(|| {
                    err(format!(
                        "field {tag}: declared length {len} exceeds the {} bytes left",
                        buf.len()
                    ))
                })?;
                buf = rest;
                Field::Len(head)
            }
            5 => {
                let (head, rest) =
                    split(buf, 4).ok_or_else(|| err(format!("field {tag}: truncated fixed32")))?;
                buf = rest;
                Field::I32(u32::from_le_bytes(head.try_into().unwrap_or_default()))
            }
            w => return Err(err(format!("field {tag}: unsupported wire type {w}"))),
        };
        f(tag, field)?;
    }
    Ok(())
}

fn split(buf: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (n <= buf.len()).then(|| buf.split_at(n))
}

/// A base-128 varint; `None` when truncated or longer than 10 bytes.
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return None;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *buf = &buf[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(detail: String) -> DecodeError {
        DecodeError::InvalidJson { line: None, detail }
    }

    fn fields(buf: &[u8]) -> Result<Vec<(u32, Field<'_>)>, DecodeError> {
        let mut out = Vec::new();
        walk(buf, err, |t, f| {
            out.push((t, f));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn walks_all_wire_types() {
        let buf = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1a, 2, b'h', b'i', // 3: "hi"
            0x25, 2, 0, 0, 0, // 4: fixed32 2
        ];
        assert_eq!(
            fields(&buf).unwrap(),
            vec![
                (1, Field::Varint(150)),
                (2, Field::I64(1)),
                (3, Field::Len(b"hi")),
                (4, Field::I32(2)),
            ]
        );
        assert!(Field::Varint(1).bytes(1, err).is_err());
    }

    #[test]
    fn refuses_malformed_wire_data() {
        for bad in [
            &[0x0a, 5, b'a'][..],                  // length past the end
            &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], // huge declared length
            &[0x08],                               // varint missing
            &[0x08, 0x80],                         // truncated varint
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
            ], // overlong
            &[0x00, 0x01],                         // tag 0
            &[0x0b],                               // group start
            &[0x0e],                               // wire type 6
            &[0x09, 1, 2, 3],                      // truncated fixed64
            &[0x0d, 1],                            // truncated fixed32
        ] {
            assert!(fields(bad).is_err(), "{bad:?}");
        }
    }
}
