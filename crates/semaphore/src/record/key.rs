//! The Kafka record key: what keeps one device's samples in order on one partition (DESIGN.md "Kafka
//! conventions"). `serial` by default; `serial/uplink`, `networkId`, a fixed string (the original's
//! RECORD_KEY) or none (spread over the partitions).

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeyStrategy {
    #[default]
    Serial,
    SerialUplink,
    NetworkId,
    None,
    Static(String),
}

impl KeyStrategy {
    /// The key for a record with these fields; `uplink` is absent for records that are not per uplink.
    pub fn key(&self, serial: Option<&str>, uplink: Option<&str>, network_id: &str) -> Option<String> {
        match self {
            KeyStrategy::Serial => Some(serial.unwrap_or(network_id).to_owned()),
            KeyStrategy::SerialUplink => Some(match (serial, uplink) {
                (Some(serial), Some(uplink)) => format!("{serial}/{uplink}"),
                (Some(serial), None) => serial.to_owned(),
                (None, _) => network_id.to_owned(),
            }),
            KeyStrategy::NetworkId => Some(network_id.to_owned()),
            KeyStrategy::None => None,
            KeyStrategy::Static(key) => Some(key.clone()),
        }
    }
}

impl FromStr for KeyStrategy {
    type Err = String;

    /// `serial`, `serial/uplink`, `networkId`, `none`; anything else is a fixed key.
    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "serial" => KeyStrategy::Serial,
            "serial/uplink" => KeyStrategy::SerialUplink,
            "networkId" => KeyStrategy::NetworkId,
            "none" => KeyStrategy::None,
            "" => return Err("the key may not be empty (use `none` for no key)".into()),
            fixed => KeyStrategy::Static(fixed.to_owned()),
        })
    }
}

impl fmt::Display for KeyStrategy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyStrategy::Serial => formatter.write_str("serial"),
            KeyStrategy::SerialUplink => formatter.write_str("serial/uplink"),
            KeyStrategy::NetworkId => formatter.write_str("networkId"),
            KeyStrategy::None => formatter.write_str("none"),
            KeyStrategy::Static(key) => formatter.write_str(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies() {
        let check = |text: &str, expected: Option<&str>| {
            let strategy: KeyStrategy = text.parse().unwrap();
            assert_eq!(
                strategy.key(Some("Q2-1"), Some("wan1"), "N_1").as_deref(),
                expected,
                "{text}"
            );
            assert_eq!(strategy.to_string(), text);
        };
        check("serial", Some("Q2-1"));
        check("serial/uplink", Some("Q2-1/wan1"));
        check("networkId", Some("N_1"));
        check("none", None);
        check("meraki", Some("meraki"));
        assert!("".parse::<KeyStrategy>().is_err());
        // Per-network records have no serial: they fall back to the network.
        assert_eq!(KeyStrategy::Serial.key(None, None, "N_1").as_deref(), Some("N_1"));
    }
}
