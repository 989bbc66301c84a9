//! Our own SNMP engine, the authoritative one for the informs sent to us (RFC 3414 §2.2): its engine ID and
//! its boots counter (snmpEngineBoots), kept in `DATA_DIR/snmp_traps/SOURCE.json` so that both survive a
//! restart; its time (snmpEngineTime) is the seconds since the source started.
//!
//! The engine ID is the configured `engine_id`, or one made at the first start and kept: a sender that
//! discovered it (net-snmp caches it) goes on using it. The boots counter grows by one at each start, so an
//! inform recorded before a restart cannot be replayed after it; a new engine ID starts it again at 1.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sources::snmp::wire::time_window::MAX_ENGINE_BOOTS;
use crate::watermark::write_atomically;

/// SnmpEngineID is 5 to 32 octets (RFC 3411 §5).
pub const MIN_ENGINE_ID: usize = 5;
pub const MAX_ENGINE_ID: usize = 32;

/// The prefix of the engine IDs made here: the format net-snmp gives an engine configured without one
/// (enterprise 8072, net-snmp; format 128, random octets), which every SNMP tool reads; 8 random octets
/// follow.
const GENERATED_PREFIX: [u8; 5] = [0x80, 0x00, 0x1f, 0x88, 0x80];

/// Our engine for this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalEngine {
    pub id: Vec<u8>,
    /// snmpEngineBoots: 1 at the first start, one more at each start after.
    pub boots: u32,
}

/// Why the engine's state could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum EngineStateError {
    #[error("cannot read the SNMP engine state {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the SNMP engine state {path} is damaged ({reason}); move it away to start with a new engine ID \
         (senders of informs discover it again)"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error("cannot write the SNMP engine state {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The state file as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EngineFile {
    /// Hex.
    engine_id: String,
    boots: u32,
}

/// Starts the engine of source `source_id`: reads its state, counts this start and writes the state back
/// before anything is received, so that two runs never share a boots value.
pub fn start(
    data_dir: &Path,
    source_id: &str,
    configured: Option<&[u8]>,
) -> Result<LocalEngine, EngineStateError> {
    let path = data_dir.join("snmp_traps").join(format!("{source_id}.json"));
    let stored = read(&path)?;
    let engine = next_start(stored, configured, generated_id());
    let file = EngineFile {
        engine_id: to_hex(&engine.id),
        boots: engine.boots,
    };
    let bytes =
        serde_json::to_vec_pretty(&file).expect("the engine state is plain data and always serializes");
    write_atomically(&path, &bytes).map_err(|source| EngineStateError::Write { path, source })?;
    Ok(engine)
}

/// The engine of this start: the configured ID, else the stored one, else `generated`; boots one more than
/// stored for the same ID (never past RFC 3414's last value), else 1.
fn next_start(stored: Option<LocalEngine>, configured: Option<&[u8]>, generated: Vec<u8>) -> LocalEngine {
    let id = match (configured, &stored) {
        (Some(configured), _) => configured.to_vec(),
        (None, Some(stored)) => stored.id.clone(),
        (None, None) => generated,
    };
    let boots = match stored {
        Some(stored) if stored.id == id => stored.boots.saturating_add(1).clamp(1, MAX_ENGINE_BOOTS),
        _ => 1,
    };
    LocalEngine { id, boots }
}

fn read(path: &Path) -> Result<Option<LocalEngine>, EngineStateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EngineStateError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let damaged = |reason: String| EngineStateError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let file: EngineFile = serde_json::from_slice(&bytes).map_err(|error| damaged(error.to_string()))?;
    let id = engine_id(&file.engine_id).map_err(damaged)?;
    Ok(Some(LocalEngine {
        id,
        boots: file.boots,
    }))
}

/// A new engine ID: the generated prefix and 8 random octets.
fn generated_id() -> Vec<u8> {
    let random = uuid::Uuid::new_v4();
    let mut id = GENERATED_PREFIX.to_vec();
    id.extend_from_slice(&random.as_bytes()[..8]);
    id
}

/// An engine ID written in hex (`80001f8880…`, optionally `0x`-prefixed, octets optionally separated by `:`),
/// 5 to 32 octets; the error says what is wrong with it.
pub fn engine_id(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .chars()
        .filter(|character| *character != ':')
        .collect();
    let octets = from_hex(&digits).ok_or_else(|| format!("{text:?} is not hex (as 80001f8880c0ffee01)"))?;
    if !(MIN_ENGINE_ID..=MAX_ENGINE_ID).contains(&octets.len()) {
        return Err(format!(
            "{text:?} is {} octets; an engine ID is {MIN_ENGINE_ID} to {MAX_ENGINE_ID} (RFC 3411)",
            octets.len()
        ));
    }
    Ok(octets)
}

fn from_hex(digits: &str) -> Option<Vec<u8>> {
    if digits.is_empty() || !digits.len().is_multiple_of(2) || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|start| u8::from_str_radix(&digits[start..start + 2], 16).ok())
        .collect()
}

/// Lowercase hex, as engine IDs are logged and stored.
pub fn to_hex(octets: &[u8]) -> String {
    octets.iter().map(|octet| format!("{octet:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> PathBuf {
        let directory = std::env::temp_dir().join(format!("snmp-engine-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        directory
    }

    #[test]
    fn boots_grow_at_each_start_and_the_generated_id_is_kept() {
        let data_dir = directory();
        let first = start(&data_dir, "traps", None).unwrap();
        assert_eq!(first.boots, 1);
        assert_eq!(first.id.len(), 13);
        assert_eq!(first.id[..5], GENERATED_PREFIX);
        let second = start(&data_dir, "traps", None).unwrap();
        assert_eq!(
            second,
            LocalEngine {
                boots: 2,
                ..first.clone()
            }
        );
        let other_source = start(&data_dir, "traps_2", None).unwrap();
        assert_eq!(other_source.boots, 1);
        assert_ne!(other_source.id, first.id);
        let text = std::fs::read_to_string(data_dir.join("snmp_traps/traps.json")).unwrap();
        assert!(
            text.contains(&to_hex(&first.id)) && text.contains("\"boots\": 2"),
            "{text}"
        );
    }

    #[test]
    fn a_configured_id_wins_and_a_new_id_starts_boots_again() {
        let data_dir = directory();
        let configured = engine_id("0x80001f8880c0ffee01").unwrap();
        assert_eq!(start(&data_dir, "traps", None).unwrap().boots, 1);
        assert_eq!(start(&data_dir, "traps", None).unwrap().boots, 2);
        let changed = start(&data_dir, "traps", Some(&configured)).unwrap();
        assert_eq!(
            changed,
            LocalEngine {
                id: configured.clone(),
                boots: 1
            }
        );
        assert_eq!(start(&data_dir, "traps", Some(&configured)).unwrap().boots, 2);
        // Left out again: the stored one, the configured one of the last start, goes on.
        assert_eq!(start(&data_dir, "traps", None).unwrap().id, configured);
    }

    #[test]
    fn boots_stop_at_the_last_value() {
        let id = vec![0x80, 0, 0, 0, 1];
        let stored = LocalEngine {
            id: id.clone(),
            boots: MAX_ENGINE_BOOTS,
        };
        let next = next_start(Some(stored), None, Vec::new());
        assert_eq!(
            next,
            LocalEngine {
                id,
                boots: MAX_ENGINE_BOOTS
            }
        );
    }

    #[test]
    fn a_damaged_state_names_the_file() {
        let data_dir = directory();
        let path = data_dir.join("snmp_traps/traps.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, br#"{"engineId": "zz", "boots": 3}"#).unwrap();
        let error = start(&data_dir, "traps", None).unwrap_err().to_string();
        assert!(
            error.contains("traps.json") && error.contains("is not hex"),
            "{error}"
        );
        std::fs::write(&path, b"{").unwrap();
        let error = start(&data_dir, "traps", None).unwrap_err().to_string();
        assert!(error.contains("is damaged"), "{error}");
    }

    #[test]
    fn engine_ids_are_hex_of_5_to_32_octets() {
        assert_eq!(
            engine_id("80:00:1f:88:80"),
            Ok(vec![0x80, 0x00, 0x1f, 0x88, 0x80])
        );
        assert_eq!(engine_id("0X8000000001").map(|id| id.len()), Ok(5));
        assert!(engine_id("80001f88").unwrap_err().contains("4 octets"));
        assert!(engine_id(&"ab".repeat(33)).unwrap_err().contains("33 octets"));
        assert!(engine_id("80001f888g").unwrap_err().contains("not hex"));
        assert!(engine_id("80001f8880a").unwrap_err().contains("not hex"));
        assert!(engine_id("").unwrap_err().contains("not hex"));
        assert_eq!(to_hex(&[0x80, 0x0a]), "800a");
    }
}
