//! Why a datagram was refused ([`TrapError`]), and the `reason` label it is counted under in
//! `semaphore_snmp_trap_errors_total`. The text says what to check; it never holds a community or a key.

use crate::sources::snmp::wire::{DecodeError, PduType, UsmError};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrapError {
    #[error("not an SNMP message: {0}")]
    Malformed(DecodeError),
    #[error("a community none of communities_env holds")]
    BadCommunity,
    #[error("unknown SNMPv3 user {0:?}: add it to the source's users")]
    UnknownUser(String),
    #[error("{0}")]
    Usm(UsmError),
    #[error("a {0} PDU, which is neither a trap nor an inform")]
    UnexpectedPdu(PduType),
    #[error("an inform to engine ID {0}, not ours: the sender did not discover our engine ID")]
    InformToAnotherEngine(String),
}

impl TrapError {
    /// The `reason` label: a fixed, small set.
    pub fn reason(&self) -> &'static str {
        match self {
            TrapError::Malformed(_) => "malformed",
            TrapError::BadCommunity => "bad_community",
            TrapError::UnknownUser(_) => "unknown_user",
            TrapError::Usm(error) => usm_reason(error),
            TrapError::UnexpectedPdu(_) => "unexpected_pdu",
            TrapError::InformToAnotherEngine(_) => "unknown_engine_id",
        }
    }
}

fn usm_reason(error: &UsmError) -> &'static str {
    match error {
        UsmError::Malformed(_) => "malformed",
        UsmError::UnsupportedSecurityModel(_) => "unsupported_security_model",
        UsmError::UnknownUserName => "unknown_user",
        UsmError::UnknownEngineId => "unknown_engine_id",
        UsmError::UnsupportedSecurityLevel(_) | UsmError::SecurityLevelTooLow { .. } => {
            "unsupported_security_level"
        }
        // A MAC of another length is another authentication protocol: the fix is the same as a wrong digest's.
        UsmError::AuthenticationParametersLength { .. } | UsmError::WrongDigest => "wrong_digest",
        UsmError::PrivacyParametersLength(_)
        | UsmError::CiphertextLength(_)
        | UsmError::UndecryptableScopedPdu(_) => "decryption",
        UsmError::NotInTimeWindow { .. } => "not_in_time_window",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::snmp::wire::{DecodeErrorKind, SecurityLevel};

    #[test]
    fn each_error_has_a_reason_and_says_what_to_check() {
        let malformed = DecodeError::new("message", DecodeErrorKind::Truncated);
        let cases = [
            (TrapError::Malformed(malformed), "malformed"),
            (TrapError::BadCommunity, "bad_community"),
            (TrapError::UnknownUser("mallory".to_owned()), "unknown_user"),
            (TrapError::Usm(UsmError::WrongDigest), "wrong_digest"),
            (
                TrapError::Usm(UsmError::UnsupportedSecurityLevel(SecurityLevel::AuthPriv)),
                "unsupported_security_level",
            ),
            (TrapError::Usm(UsmError::CiphertextLength(7)), "decryption"),
            (TrapError::UnexpectedPdu(PduType::Get), "unexpected_pdu"),
            (
                TrapError::InformToAnotherEngine("8000".to_owned()),
                "unknown_engine_id",
            ),
        ];
        for (error, reason) in cases {
            assert_eq!(error.reason(), reason, "{error}");
        }
        assert_eq!(
            TrapError::UnknownUser("mallory".to_owned()).to_string(),
            "unknown SNMPv3 user \"mallory\": add it to the source's users"
        );
        assert_eq!(
            TrapError::UnexpectedPdu(PduType::Get).to_string(),
            "a GetRequest PDU, which is neither a trap nor an inform"
        );
    }
}
