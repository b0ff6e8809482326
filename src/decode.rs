//! From an event's data to a Rust value: JSON into any `T: Deserialize`, and an
//! externally tagged enum whose variants are the event types.
//!
//! ```
//! use serde::Deserialize;
//! use sse_wasm::{decode, SseEvent};
//!
//! #[derive(Deserialize, Debug, PartialEq)]
//! #[serde(rename_all = "kebab-case")]
//! enum ServerEvent {
//!     Tick { price: f64 },
//!     MarketClosed,
//! }
//!
//! assert_eq!(decode::event_types::<ServerEvent>()?, ["tick", "market-closed"]);
//! let event = SseEvent {
//!     event_type: "tick".into(),
//!     data: r#"{"price": 1.5}"#.into(),
//!     last_event_id: "7".into(),
//! };
//! assert_eq!(decode::enum_event::<ServerEvent>(&event)?, ServerEvent::Tick { price: 1.5 });
//! # Ok::<(), sse_wasm::SseError>(())
//! ```

use std::fmt;

use serde::de::{
    self, DeserializeOwned, Deserializer, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};

use crate::event::{SseError, SseEvent};

/// Decodes the event's data as JSON into `T`.
///
/// A failure is [`SseError::Decode`] carrying the event type, the raw data and the
/// decoder's message.
pub fn json<T: DeserializeOwned>(event: &SseEvent) -> Result<T, SseError> {
    json_data(&event.event_type, &event.data)
}

/// [`json`] of an event's type and data where they lie.
pub(crate) fn json_data<T: DeserializeOwned>(event_type: &str, data: &str) -> Result<T, SseError> {
    serde_json::from_str(data).map_err(|error| decode_error(event_type, data, error))
}

/// Decodes the event into the variant of `E` named by the event's type; the data is the
/// variant's content as JSON (ignored for unit variants).
pub fn enum_event<E: DeserializeOwned>(event: &SseEvent) -> Result<E, SseError> {
    enum_data(&event.event_type, &event.data)
}

/// [`enum_event`] of an event's type and data where they lie.
pub(crate) fn enum_data<E: DeserializeOwned>(event_type: &str, data: &str) -> Result<E, SseError> {
    E::deserialize(TaggedEvent { event_type, data })
        .map_err(|error| decode_error(event_type, data, error))
}

/// The serde names of `E`'s variants: the event types an
/// [`on_enum`](crate::SseClient::on_enum) handler listens for.
///
/// `E` must be an externally tagged enum (serde's default representation);
/// `#[serde(tag = …)]` and `#[serde(untagged)]` enums do not name their variants to the
/// deserializer and give [`SseError::Invalid`].
pub fn event_types<E: DeserializeOwned>() -> Result<&'static [&'static str], SseError> {
    match E::deserialize(VariantNames) {
        Err(NamesFound(Some(names))) => Ok(names),
        Err(NamesFound(None)) | Ok(_) => Err(SseError::invalid(format!(
            "{} is not an externally tagged enum, so its variants cannot name event types",
            std::any::type_name::<E>()
        ))),
    }
}

fn decode_error(event_type: &str, data: &str, error: impl fmt::Display) -> SseError {
    SseError::Decode {
        event_type: event_type.to_owned(),
        data: data.to_owned(),
        message: error.to_string(),
    }
}

/// A deserializer that only records the variant list serde hands to `deserialize_enum`,
/// then stops with it as its "error".
struct VariantNames;

#[derive(Debug)]
struct NamesFound(Option<&'static [&'static str]>);

impl fmt::Display for NamesFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("variant names")
    }
}

impl std::error::Error for NamesFound {}

impl de::Error for NamesFound {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NamesFound(None)
    }
}

impl<'de> Deserializer<'de> for VariantNames {
    type Error = NamesFound;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, NamesFound> {
        Err(NamesFound(None))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, NamesFound> {
        Err(NamesFound(Some(variants)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// Presents an event to serde as the externally tagged enum value `{type: data}`
/// without building that JSON: the tag is the event type, the content is parsed from
/// the data in place.
struct TaggedEvent<'a> {
    event_type: &'a str,
    data: &'a str,
}

impl<'de> Deserializer<'de> for TaggedEvent<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        struct enum identifier ignored_any
    }
}

impl<'de> EnumAccess<'de> for TaggedEvent<'de> {
    type Error = serde_json::Error;
    type Variant = Self;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), Self::Error> {
        let tag: de::value::StrDeserializer<'_, serde_json::Error> =
            self.event_type.into_deserializer();
        Ok((seed.deserialize(tag)?, self))
    }
}

impl<'de> VariantAccess<'de> for TaggedEvent<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        self.with_data(|data| seed.deserialize(data))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.with_data(|data| data.deserialize_tuple(len, visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.with_data(|data| data.deserialize_struct("", fields, visitor))
    }
}

impl<'de> TaggedEvent<'de> {
    fn with_data<T>(
        self,
        read: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::StrRead<'de>>,
        ) -> Result<T, serde_json::Error>,
    ) -> Result<T, serde_json::Error> {
        let mut data = serde_json::Deserializer::from_str(self.data);
        let value = read(&mut data)?;
        data.end()?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Tick {
        seq: u64,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum ServerEvent {
        Tick(Tick),
        News {
            headline: String,
        },
        Pair(u32, u32),
        Heartbeat,
        #[serde(rename = "error")]
        ServerError(String),
    }

    fn event(event_type: &str, data: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: String::new(),
        }
    }

    #[test]
    fn json_into_a_struct() {
        assert_eq!(
            json::<Tick>(&event("tick", r#"{"seq":3}"#)).unwrap(),
            Tick { seq: 3 }
        );
    }

    #[test]
    fn malformed_json_reports_type_data_and_message() {
        let error = json::<Tick>(&event("tick", "{\"seq\":1, broken")).unwrap_err();
        match error {
            SseError::Decode {
                event_type,
                data,
                message,
            } => {
                assert_eq!(event_type, "tick");
                assert_eq!(data, "{\"seq\":1, broken");
                assert!(message.contains("line 1"), "{message}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
        assert_eq!(json::<Tick>(&event("t", "")).unwrap_err().kind(), "decode");
    }

    #[test]
    fn enum_variant_names_are_the_serde_names() {
        assert_eq!(
            event_types::<ServerEvent>().unwrap(),
            ["tick", "news", "pair", "heartbeat", "error"]
        );
    }

    #[test]
    fn every_variant_shape_decodes() {
        let cases = [
            (
                event("tick", r#"{"seq":9}"#),
                ServerEvent::Tick(Tick { seq: 9 }),
            ),
            (
                event("news", r#"{"headline":"up"}"#),
                ServerEvent::News {
                    headline: "up".into(),
                },
            ),
            (event("pair", "[1, 2]"), ServerEvent::Pair(1, 2)),
            (
                event("heartbeat", "anything at all"),
                ServerEvent::Heartbeat,
            ),
            (
                event("error", r#""boom""#),
                ServerEvent::ServerError("boom".into()),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(enum_event::<ServerEvent>(&event).unwrap(), expected);
        }
    }

    #[test]
    fn unknown_types_and_bad_data_are_decode_errors() {
        for bad in [
            event("nope", "{}"),
            event("tick", "{\"seq\":\"x\"}"),
            event("tick", "{\"seq\":1} trailing"),
        ] {
            assert_eq!(
                enum_event::<ServerEvent>(&bad).unwrap_err().kind(),
                "decode"
            );
        }
    }

    #[test]
    fn non_enums_and_internally_tagged_enums_are_rejected() {
        #[derive(Deserialize)]
        #[serde(tag = "kind")]
        #[allow(dead_code)]
        enum Internally {
            A { x: u32 },
        }
        assert_eq!(event_types::<Tick>().unwrap_err().kind(), "invalid");
        assert_eq!(event_types::<Internally>().unwrap_err().kind(), "invalid");
        assert_eq!(event_types::<u32>().unwrap_err().kind(), "invalid");
    }
}
