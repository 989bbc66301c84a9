//! The PDUs (RFC 3416 §3, and SNMPv1's Trap-PDU of RFC 1157 §4.1.6): [`Pdu`] for every type that has a
//! request-id, [`TrapV1Pdu`] for the one that has not, and [`AnyPdu`] for either as decoded.

use std::fmt;

use crate::sources::snmp::wire::ber::{self, Reader, Tlv, Writer};
use crate::sources::snmp::wire::errors::{DecodeError, DecodeErrorKind};
use crate::sources::snmp::wire::message::Version;
use crate::sources::snmp::wire::oid::{Oid, OidError};
use crate::sources::snmp::wire::value::{self, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduType {
    Get,
    GetNext,
    Response,
    Set,
    /// SNMPv1's Trap-PDU.
    TrapV1,
    GetBulk,
    Inform,
    /// SNMPv2-Trap-PDU.
    TrapV2,
    Report,
}

impl PduType {
    pub const ALL: [PduType; 9] = [
        PduType::Get,
        PduType::GetNext,
        PduType::Response,
        PduType::Set,
        PduType::TrapV1,
        PduType::GetBulk,
        PduType::Inform,
        PduType::TrapV2,
        PduType::Report,
    ];

    /// The context-specific constructed tag the PDU is written under.
    pub const fn tag(self) -> u8 {
        match self {
            PduType::Get => 0xa0,
            PduType::GetNext => 0xa1,
            PduType::Response => 0xa2,
            PduType::Set => 0xa3,
            PduType::TrapV1 => 0xa4,
            PduType::GetBulk => 0xa5,
            PduType::Inform => 0xa6,
            PduType::TrapV2 => 0xa7,
            PduType::Report => 0xa8,
        }
    }

    pub fn from_tag(tag: u8) -> Option<PduType> {
        PduType::ALL.into_iter().find(|pdu_type| pdu_type.tag() == tag)
    }

    /// The name RFC 3416 gives it.
    pub const fn name(self) -> &'static str {
        match self {
            PduType::Get => "GetRequest",
            PduType::GetNext => "GetNextRequest",
            PduType::Response => "Response",
            PduType::Set => "SetRequest",
            PduType::TrapV1 => "Trap",
            PduType::GetBulk => "GetBulkRequest",
            PduType::Inform => "InformRequest",
            PduType::TrapV2 => "SNMPv2-Trap",
            PduType::Report => "Report",
        }
    }

    /// Whether messages of `version` carry this PDU: SNMPv1 has the four of RFC 1157 and its Trap, SNMPv2c
    /// and SNMPv3 the PDUs of RFC 3416, which replace the Trap (RFC 3584 §2).
    pub const fn in_version(self, version: Version) -> bool {
        let v1 = matches!(version, Version::V1);
        match self {
            PduType::Get | PduType::GetNext | PduType::Response | PduType::Set => true,
            PduType::TrapV1 => v1,
            PduType::GetBulk | PduType::Inform | PduType::TrapV2 | PduType::Report => !v1,
        }
    }
}

impl fmt::Display for PduType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The error-status of a Response (RFC 3416 §3; SNMPv1 has the first six).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorStatus {
    NoError,
    TooBig,
    NoSuchName,
    BadValue,
    ReadOnly,
    GenErr,
    NoAccess,
    WrongType,
    WrongLength,
    WrongEncoding,
    WrongValue,
    NoCreation,
    InconsistentValue,
    ResourceUnavailable,
    CommitFailed,
    UndoFailed,
    AuthorizationError,
    NotWritable,
    InconsistentName,
    /// A code no RFC defines, kept so that the response is not lost over it.
    Other(i32),
}

impl ErrorStatus {
    const KNOWN: [ErrorStatus; 19] = [
        ErrorStatus::NoError,
        ErrorStatus::TooBig,
        ErrorStatus::NoSuchName,
        ErrorStatus::BadValue,
        ErrorStatus::ReadOnly,
        ErrorStatus::GenErr,
        ErrorStatus::NoAccess,
        ErrorStatus::WrongType,
        ErrorStatus::WrongLength,
        ErrorStatus::WrongEncoding,
        ErrorStatus::WrongValue,
        ErrorStatus::NoCreation,
        ErrorStatus::InconsistentValue,
        ErrorStatus::ResourceUnavailable,
        ErrorStatus::CommitFailed,
        ErrorStatus::UndoFailed,
        ErrorStatus::AuthorizationError,
        ErrorStatus::NotWritable,
        ErrorStatus::InconsistentName,
    ];

    pub fn from_code(code: i32) -> ErrorStatus {
        usize::try_from(code)
            .ok()
            .and_then(|index| ErrorStatus::KNOWN.get(index).copied())
            .unwrap_or(ErrorStatus::Other(code))
    }

    pub fn code(self) -> i32 {
        match self {
            ErrorStatus::Other(code) => code,
            known => ErrorStatus::KNOWN
                .iter()
                .position(|status| *status == known)
                .and_then(|index| i32::try_from(index).ok())
                .unwrap_or_default(),
        }
    }

    /// The name RFC 3416 gives it (`noSuchName`), or the code when it has none.
    pub fn name(self) -> String {
        let name = match self {
            ErrorStatus::NoError => "noError",
            ErrorStatus::TooBig => "tooBig",
            ErrorStatus::NoSuchName => "noSuchName",
            ErrorStatus::BadValue => "badValue",
            ErrorStatus::ReadOnly => "readOnly",
            ErrorStatus::GenErr => "genErr",
            ErrorStatus::NoAccess => "noAccess",
            ErrorStatus::WrongType => "wrongType",
            ErrorStatus::WrongLength => "wrongLength",
            ErrorStatus::WrongEncoding => "wrongEncoding",
            ErrorStatus::WrongValue => "wrongValue",
            ErrorStatus::NoCreation => "noCreation",
            ErrorStatus::InconsistentValue => "inconsistentValue",
            ErrorStatus::ResourceUnavailable => "resourceUnavailable",
            ErrorStatus::CommitFailed => "commitFailed",
            ErrorStatus::UndoFailed => "undoFailed",
            ErrorStatus::AuthorizationError => "authorizationError",
            ErrorStatus::NotWritable => "notWritable",
            ErrorStatus::InconsistentName => "inconsistentName",
            ErrorStatus::Other(code) => return format!("error-status {code}"),
        };
        name.to_owned()
    }
}

impl fmt::Display for ErrorStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name())
    }
}

/// A name and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: Value,
}

impl VarBind {
    pub fn new(oid: Oid, value: Value) -> Self {
        Self { oid, value }
    }

    /// A name to ask for: its value NULL, as requests carry it.
    pub fn null(oid: Oid) -> Self {
        Self::new(oid, Value::Null)
    }
}

/// Every PDU but SNMPv1's Trap. A GetBulkRequest carries non-repeaters and max-repetitions where the others
/// carry error-status and error-index (RFC 3416 §3), so the two fields hold either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub pdu_type: PduType,
    pub request_id: i32,
    /// error-status, or non-repeaters in a GetBulkRequest.
    pub error_status: i32,
    /// error-index (1 for the first variable binding), or max-repetitions in a GetBulkRequest.
    pub error_index: i32,
    pub varbinds: Vec<VarBind>,
}

impl Pdu {
    pub fn new(pdu_type: PduType, request_id: i32, varbinds: Vec<VarBind>) -> Self {
        Self {
            pdu_type,
            request_id,
            error_status: 0,
            error_index: 0,
            varbinds,
        }
    }

    pub fn get(request_id: i32, oids: &[Oid]) -> Self {
        Self::new(PduType::Get, request_id, null_bindings(oids))
    }

    pub fn get_next(request_id: i32, oids: &[Oid]) -> Self {
        Self::new(PduType::GetNext, request_id, null_bindings(oids))
    }

    /// A GetBulkRequest: the first `non_repeaters` names are asked once, the others `max_repetitions` times
    /// (RFC 3416 §4.2.3).
    pub fn get_bulk(request_id: i32, non_repeaters: i32, max_repetitions: i32, oids: &[Oid]) -> Self {
        Self {
            pdu_type: PduType::GetBulk,
            request_id,
            error_status: non_repeaters,
            error_index: max_repetitions,
            varbinds: null_bindings(oids),
        }
    }

    /// The Response that acknowledges an InformRequest: its request-id and its variable bindings, no error
    /// (RFC 3416 §4.2.7).
    pub fn response_to(inform: &Pdu) -> Self {
        Self::new(PduType::Response, inform.request_id, inform.varbinds.clone())
    }

    /// A Report of one error counter and its value (RFC 3412 §7.1.3.c), as an authoritative engine sends.
    pub fn report(request_id: i32, counter: Oid, count: u32) -> Self {
        let varbind = VarBind::new(counter, Value::Counter32(count));
        Self::new(PduType::Report, request_id, vec![varbind])
    }

    pub fn error(&self) -> ErrorStatus {
        ErrorStatus::from_code(self.error_status)
    }

    pub fn non_repeaters(&self) -> i32 {
        self.error_status
    }

    pub fn max_repetitions(&self) -> i32 {
        self.error_index
    }

    fn decode_fields(pdu_type: PduType, fields: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let request_id = fields.read_i32("request-id")?;
        let (error_status, error_index) = if pdu_type == PduType::GetBulk {
            let non_repeaters = fields.read_i32_in("non-repeaters", 0, i32::MAX)?;
            let max_repetitions = fields.read_i32_in("max-repetitions", 0, i32::MAX)?;
            (non_repeaters, max_repetitions)
        } else {
            let error_status = fields.read_i32("error-status")?;
            let error_index = fields.read_i32("error-index")?;
            (error_status, error_index)
        };
        let varbinds = decode_varbinds(fields)?;
        Ok(Self {
            pdu_type,
            request_id,
            error_status,
            error_index,
            varbinds,
        })
    }

    fn encode_fields(&self, fields: &mut Writer) {
        fields.integer(ber::INTEGER, i64::from(self.request_id));
        fields.integer(ber::INTEGER, i64::from(self.error_status));
        fields.integer(ber::INTEGER, i64::from(self.error_index));
        encode_varbinds(fields, &self.varbinds);
    }
}

fn null_bindings(oids: &[Oid]) -> Vec<VarBind> {
    oids.iter().cloned().map(VarBind::null).collect()
}

/// SNMPv1's generic-trap (RFC 1157 §4.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GenericTrap {
    ColdStart,
    WarmStart,
    LinkDown,
    LinkUp,
    AuthenticationFailure,
    EgpNeighborLoss,
    EnterpriseSpecific,
}

impl GenericTrap {
    const ALL: [GenericTrap; 7] = [
        GenericTrap::ColdStart,
        GenericTrap::WarmStart,
        GenericTrap::LinkDown,
        GenericTrap::LinkUp,
        GenericTrap::AuthenticationFailure,
        GenericTrap::EgpNeighborLoss,
        GenericTrap::EnterpriseSpecific,
    ];

    pub fn from_code(code: i32) -> Option<GenericTrap> {
        let index = usize::try_from(code).ok()?;
        GenericTrap::ALL.get(index).copied()
    }

    pub fn code(self) -> u32 {
        match self {
            GenericTrap::ColdStart => 0,
            GenericTrap::WarmStart => 1,
            GenericTrap::LinkDown => 2,
            GenericTrap::LinkUp => 3,
            GenericTrap::AuthenticationFailure => 4,
            GenericTrap::EgpNeighborLoss => 5,
            GenericTrap::EnterpriseSpecific => 6,
        }
    }
}

/// snmpTraps (RFC 3418), under which the generic traps have SNMPv2 identities.
const SNMP_TRAPS: [u32; 9] = [1, 3, 6, 1, 6, 3, 1, 1, 5];

/// SNMPv1's Trap-PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapV1Pdu {
    pub enterprise: Oid,
    pub agent_address: [u8; 4],
    pub generic_trap: GenericTrap,
    /// Meaningful when `generic_trap` is enterpriseSpecific.
    pub specific_trap: i32,
    /// sysUpTime when the trap was sent, in hundredths of a second.
    pub time_stamp: u32,
    pub varbinds: Vec<VarBind>,
}

impl TrapV1Pdu {
    /// The snmpTrapOID.0 an SNMPv2 trap would carry for this one (RFC 3584 §3.1.2): snmpTraps.(generic + 1)
    /// for a generic trap, enterprise.0.specific for an enterprise-specific one.
    pub fn snmp_trap_oid(&self) -> Result<Oid, OidError> {
        match self.generic_trap {
            GenericTrap::EnterpriseSpecific => {
                let specific = self.specific_trap.unsigned_abs();
                self.enterprise.extended(&[0, specific])
            }
            generic => Oid::new(&[&SNMP_TRAPS[..], &[generic.code() + 1][..]].concat()),
        }
    }

    fn decode_fields(fields: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let enterprise = fields.read_oid("enterprise")?;
        let address = fields.read_expected(value::IP_ADDRESS, "agent-addr")?;
        let Ok(agent_address) = <[u8; 4]>::try_from(address.content) else {
            let found = address.content.len();
            let kind = DecodeErrorKind::WrongLength { found, expected: 4 };
            return Err(DecodeError::new("agent-addr", kind));
        };
        let code = fields.read_i32_in("generic-trap", 0, 6)?;
        let out_of_range = DecodeError::new("generic-trap", DecodeErrorKind::OutOfRange(code.into()));
        let generic_trap = GenericTrap::from_code(code).ok_or(out_of_range)?;
        let specific_trap = fields.read_i32_in("specific-trap", 0, i32::MAX)?;
        let stamp = fields.read_expected(value::TIME_TICKS, "time-stamp")?;
        let time_stamp = ber::unsigned32(stamp.content);
        let time_stamp = time_stamp.map_err(|kind| DecodeError::new("time-stamp", kind))?;
        let varbinds = decode_varbinds(fields)?;
        Ok(Self {
            enterprise,
            agent_address,
            generic_trap,
            specific_trap,
            time_stamp,
            varbinds,
        })
    }

    fn encode_fields(&self, fields: &mut Writer) {
        fields.oid(&self.enterprise);
        fields.tlv(value::IP_ADDRESS, &self.agent_address);
        fields.integer(ber::INTEGER, i64::from(self.generic_trap.code()));
        fields.integer(ber::INTEGER, i64::from(self.specific_trap));
        fields.unsigned(value::TIME_TICKS, u64::from(self.time_stamp));
        encode_varbinds(fields, &self.varbinds);
    }
}

/// A PDU as decoded: SNMPv1's Trap, or any other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyPdu {
    Pdu(Pdu),
    TrapV1(TrapV1Pdu),
}

impl AnyPdu {
    pub fn pdu_type(&self) -> PduType {
        match self {
            AnyPdu::Pdu(pdu) => pdu.pdu_type,
            AnyPdu::TrapV1(_) => PduType::TrapV1,
        }
    }

    pub fn varbinds(&self) -> &[VarBind] {
        match self {
            AnyPdu::Pdu(pdu) => &pdu.varbinds,
            AnyPdu::TrapV1(trap) => &trap.varbinds,
        }
    }

    /// The PDU when it is not SNMPv1's Trap.
    pub fn as_pdu(&self) -> Option<&Pdu> {
        match self {
            AnyPdu::Pdu(pdu) => Some(pdu),
            AnyPdu::TrapV1(_) => None,
        }
    }

    pub fn decode(tlv: Tlv<'_>) -> Result<Self, DecodeError> {
        let pdu_type = PduType::from_tag(tlv.tag)
            .ok_or(DecodeError::new("PDU", DecodeErrorKind::UnknownPdu(tlv.tag)))?;
        let mut fields = tlv.reader();
        let pdu = match pdu_type {
            PduType::TrapV1 => AnyPdu::TrapV1(TrapV1Pdu::decode_fields(&mut fields)?),
            _ => AnyPdu::Pdu(Pdu::decode_fields(pdu_type, &mut fields)?),
        };
        fields.finish(pdu_type.name())?;
        Ok(pdu)
    }

    pub fn encode(&self, writer: &mut Writer) {
        writer.constructed(self.pdu_type().tag(), |fields| match self {
            AnyPdu::Pdu(pdu) => pdu.encode_fields(fields),
            AnyPdu::TrapV1(trap) => trap.encode_fields(fields),
        });
    }

    /// Fails unless messages of `version` carry this PDU.
    pub fn check_version(&self, version: Version) -> Result<(), DecodeError> {
        let pdu = self.pdu_type();
        if pdu.in_version(version) {
            Ok(())
        } else {
            let kind = DecodeErrorKind::PduNotAllowed { pdu, version };
            Err(DecodeError::new("PDU", kind))
        }
    }
}

impl From<Pdu> for AnyPdu {
    fn from(pdu: Pdu) -> Self {
        AnyPdu::Pdu(pdu)
    }
}

impl From<TrapV1Pdu> for AnyPdu {
    fn from(trap: TrapV1Pdu) -> Self {
        AnyPdu::TrapV1(trap)
    }
}

/// variable-bindings: a SEQUENCE of SEQUENCE { name, value }. Its length bounds how many there are.
fn decode_varbinds(fields: &mut Reader<'_>) -> Result<Vec<VarBind>, DecodeError> {
    let mut list = fields.read_constructed(ber::SEQUENCE, "variable-bindings")?;
    let mut varbinds = Vec::new();
    while !list.is_empty() {
        let mut varbind = list.read_constructed(ber::SEQUENCE, "VarBind")?;
        let oid = varbind.read_oid("VarBind name")?;
        let value = Value::decode(varbind.read("VarBind value")?)?;
        varbind.finish("VarBind")?;
        varbinds.push(VarBind { oid, value });
    }
    Ok(varbinds)
}

fn encode_varbinds(fields: &mut Writer, varbinds: &[VarBind]) {
    fields.sequence(|list| {
        for varbind in varbinds {
            list.sequence(|pair| {
                pair.oid(&varbind.oid);
                varbind.value.encode(pair);
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().expect("a valid object identifier")
    }

    fn round_trip(pdu: &AnyPdu) -> AnyPdu {
        let mut writer = Writer::new();
        pdu.encode(&mut writer);
        let bytes = writer.into_bytes();
        let mut reader = Reader::new(&bytes);
        let tlv = reader.read("PDU").expect("one element");
        assert!(reader.is_empty());
        AnyPdu::decode(tlv).expect("a PDU")
    }

    fn link_down_varbinds() -> Vec<VarBind> {
        vec![
            VarBind::new(oid("1.3.6.1.2.1.1.3.0"), Value::TimeTicks(12_345)),
            VarBind::new(
                oid("1.3.6.1.6.3.1.1.4.1.0"),
                Value::ObjectIdentifier(oid("1.3.6.1.6.3.1.1.5.3")),
            ),
            VarBind::new(oid("1.3.6.1.2.1.2.2.1.1.2"), Value::Integer(2)),
        ]
    }

    #[test]
    fn every_pdu_type_round_trips() {
        for pdu_type in PduType::ALL {
            let pdu: AnyPdu = if pdu_type == PduType::TrapV1 {
                TrapV1Pdu {
                    enterprise: oid("1.3.6.1.4.1.8072.2.3"),
                    agent_address: [192, 0, 2, 1],
                    generic_trap: GenericTrap::EnterpriseSpecific,
                    specific_trap: 17,
                    time_stamp: u32::MAX,
                    varbinds: link_down_varbinds(),
                }
                .into()
            } else {
                let mut pdu = Pdu::new(pdu_type, -7, link_down_varbinds());
                pdu.error_status = 5;
                pdu.error_index = 2;
                pdu.into()
            };
            assert_eq!(round_trip(&pdu), pdu, "{pdu_type}");
            assert_eq!(PduType::from_tag(pdu_type.tag()), Some(pdu_type));
        }
        assert_eq!(PduType::from_tag(0xa9), None);
    }

    #[test]
    fn requests_carry_null_values_and_bulk_its_two_counts() {
        let names = [oid("1.3.6.1.2.1.1.3"), oid("1.3.6.1.2.1.2.2.1.2")];
        let bulk = Pdu::get_bulk(9, 1, 25, &names);
        assert_eq!((bulk.non_repeaters(), bulk.max_repetitions()), (1, 25));
        assert!(bulk.varbinds.iter().all(|varbind| varbind.value == Value::Null));
        let bulk: AnyPdu = bulk.into();
        assert_eq!(round_trip(&bulk), bulk);
        assert_eq!(Pdu::get_next(3, &names).pdu_type, PduType::GetNext);
        assert!(Pdu::get(3, &[]).varbinds.is_empty());
    }

    #[test]
    fn a_bulk_request_with_negative_counts_is_refused() {
        let mut bulk = Pdu::get_bulk(9, 0, 10, &[]);
        bulk.error_index = -1;
        let mut writer = Writer::new();
        AnyPdu::from(bulk).encode(&mut writer);
        let bytes = writer.into_bytes();
        let tlv = Reader::new(&bytes).read("PDU").expect("one element");
        let error = AnyPdu::decode(tlv).expect_err("max-repetitions is negative");
        assert_eq!(error.to_string(), "max-repetitions: -1 is out of range");
    }

    #[test]
    fn an_inform_is_answered_with_its_request_id_and_varbinds() {
        let inform = Pdu::new(PduType::Inform, 1_234, link_down_varbinds());
        let response = Pdu::response_to(&inform);
        assert_eq!(response.pdu_type, PduType::Response);
        assert_eq!(response.request_id, 1_234);
        assert_eq!(response.error(), ErrorStatus::NoError);
        assert_eq!(response.varbinds, inform.varbinds);
    }

    #[test]
    fn error_statuses_have_their_rfc_names_and_codes() {
        for code in 0..=18 {
            assert_eq!(ErrorStatus::from_code(code).code(), code);
        }
        assert_eq!(ErrorStatus::from_code(2), ErrorStatus::NoSuchName);
        assert_eq!(ErrorStatus::from_code(16).to_string(), "authorizationError");
        assert_eq!(ErrorStatus::from_code(99), ErrorStatus::Other(99));
        assert_eq!(ErrorStatus::from_code(-1).to_string(), "error-status -1");
    }

    #[test]
    fn v1_traps_have_their_snmpv2_identities() {
        let mut trap = TrapV1Pdu {
            enterprise: oid("1.3.6.1.4.1.9"),
            agent_address: [10, 0, 0, 1],
            generic_trap: GenericTrap::LinkDown,
            specific_trap: 0,
            time_stamp: 0,
            varbinds: Vec::new(),
        };
        assert_eq!(trap.snmp_trap_oid(), Ok(oid("1.3.6.1.6.3.1.1.5.3")));
        trap.generic_trap = GenericTrap::ColdStart;
        assert_eq!(trap.snmp_trap_oid(), Ok(oid("1.3.6.1.6.3.1.1.5.1")));
        trap.generic_trap = GenericTrap::EnterpriseSpecific;
        trap.specific_trap = 42;
        assert_eq!(trap.snmp_trap_oid(), Ok(oid("1.3.6.1.4.1.9.0.42")));
    }

    #[test]
    fn versions_carry_their_own_pdus() {
        assert!(PduType::TrapV1.in_version(Version::V1));
        assert!(!PduType::TrapV1.in_version(Version::V2c));
        assert!(!PduType::GetBulk.in_version(Version::V1));
        assert!(PduType::Report.in_version(Version::V3));
        let trap: AnyPdu = Pdu::new(PduType::TrapV2, 1, Vec::new()).into();
        let refused = trap.check_version(Version::V1).expect_err("v1 has none");
        assert_eq!(
            refused.to_string(),
            "PDU: a SNMPv2-Trap PDU has no place in an SNMPv1 message"
        );
        assert_eq!(trap.check_version(Version::V2c), Ok(()));
    }
}
