//! Faults a test can switch on: slow answers, server errors, 429 storms, broken bodies and redirects.
//!
//! Set at start with `--fault KIND=VALUE` or at run time with `PUT /_sim/faults` (JSON of [`Faults`]).
//! Shares are decided per request from its sequence number and the seed, so a run is repeatable.

use serde::{Deserialize, Serialize};

use crate::noise::{hash, unit};

/// The faults in force. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Extra delay before every API answer, milliseconds.
    pub latency_ms: u64,
    /// Share (0-1) of API requests answered 500, 502, 503 or 504.
    pub error_rate: f64,
    /// The next this-many API requests are answered 429 with `Retry-After: 1`, whatever the budget.
    pub storm: u64,
    /// Share of successful answers whose JSON body is cut in half.
    pub truncate_rate: f64,
    /// Share of successful answers whose body is not JSON at all (an HTML error page, as a proxy sends).
    pub malformed_rate: f64,
    /// Share of API requests redirected (307) to the same API on a shard path, as Meraki redirects to a shard.
    pub redirect_rate: f64,
    /// Redirect every API request to this base URL instead (a foreign host, to test that the key stays home).
    pub redirect_to: Option<String>,
}

/// A fault chosen for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roll {
    ServerError(u16),
    Truncate,
    Malformed,
    Redirect,
}

impl Faults {
    /// Applies one `KIND=VALUE` from the command line.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (kind, value) = assignment.split_once('=').ok_or_else(|| {
            format!(
                "fault {assignment:?} is not KIND=VALUE; kinds: {}",
                KINDS.join(", ")
            )
        })?;
        let share = |value: &str| -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|share| (0.0..=1.0).contains(share))
                .ok_or_else(|| format!("fault {kind}: {value:?} is not a share between 0 and 1"))
        };
        let count = |value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("fault {kind}: {value:?} is not a whole number"))
        };
        match kind {
            "latency-ms" => self.latency_ms = count(value)?,
            "error-rate" => self.error_rate = share(value)?,
            "storm" => self.storm = count(value)?,
            "truncate-rate" => self.truncate_rate = share(value)?,
            "malformed-rate" => self.malformed_rate = share(value)?,
            "redirect-rate" => self.redirect_rate = share(value)?,
            "redirect-to" => self.redirect_to = Some(value.trim_end_matches('/').to_owned()),
            _ => {
                return Err(format!(
                    "unknown fault kind {kind:?}; kinds: {}",
                    KINDS.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The error or redirect fault for request number `sequence`, if any (checked before the handler runs).
    pub fn roll_before(&self, seed: u64, sequence: u64) -> Option<Roll> {
        let roll = |kind: &str| unit(hash(seed, &[&sequence, &kind]));
        if roll("redirect") < self.redirect_rate {
            return Some(Roll::Redirect);
        }
        if roll("error") < self.error_rate {
            return Some(Roll::ServerError([500, 502, 503, 504][(sequence % 4) as usize]));
        }
        None
    }

    /// The body fault for request number `sequence`, if any (applied to a successful answer).
    pub fn roll_after(&self, seed: u64, sequence: u64) -> Option<Roll> {
        let roll = |kind: &str| unit(hash(seed, &[&sequence, &kind]));
        if roll("truncate") < self.truncate_rate {
            return Some(Roll::Truncate);
        }
        if roll("malformed") < self.malformed_rate {
            return Some(Roll::Malformed);
        }
        None
    }
}

const KINDS: &[&str] = &[
    "latency-ms",
    "error-rate",
    "storm",
    "truncate-rate",
    "malformed-rate",
    "redirect-rate",
    "redirect-to",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_clearly() {
        let mut faults = Faults::default();
        faults.set("error-rate=0.25").unwrap();
        faults.set("storm=3").unwrap();
        faults.set("redirect-to=http://127.0.0.2:9/api/v1/").unwrap();
        assert_eq!(faults.error_rate, 0.25);
        assert_eq!(faults.storm, 3);
        assert_eq!(faults.redirect_to.as_deref(), Some("http://127.0.0.2:9/api/v1"));
        assert!(
            faults
                .set("error-rate=2")
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            faults
                .set("explode=1")
                .unwrap_err()
                .contains("unknown fault kind")
        );
        assert!(faults.set("storm").unwrap_err().contains("KIND=VALUE"));
    }

    #[test]
    fn shares_are_roughly_honoured() {
        let faults = Faults {
            error_rate: 0.3,
            ..Default::default()
        };
        let errors = (0..10_000)
            .filter(|sequence| faults.roll_before(5, *sequence).is_some())
            .count();
        assert!((2_700..3_300).contains(&errors), "{errors}");
        assert_eq!(Faults::default().roll_before(5, 1), None);
    }
}
