//! An SNMP agent written on the wire layer, for tests of the client and of what is built on it: it serves a
//! fixed table over 127.0.0.1 UDP (GET, GETNEXT, GETBULK) to SNMPv1/v2c with a community, or to SNMPv3 with
//! one USM user as an authoritative engine does (discovery, and the unknown user, wrong digest and time
//! window Reports, the last signed as RFC 3414 §3.2.7a says), and it misbehaves on request: it loops (on
//! every column, or on one), sends a stale answer or junk first, ignores a request, refuses big answers with
//! tooBig, or leaves its Reports unsigned. As SNMPv1 agents do, it answers a v1 GET of an object it lacks
//! with noSuchName.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::sources::snmp::wire::time_window::check_authoritative;
use crate::sources::snmp::wire::{
    CommunityMessage, ErrorStatus, HeaderData, LocalizedUser, Message, Oid, Pdu, PduType, ReportError, Salts,
    ScopedPdu, SecurityLevel, UsmError, V3Message, Value, VarBind, Version, usm,
};

/// msgMaxSize the agent announces.
const MAX_SIZE: i32 = 65_507;

/// The agent's engine time when it starts, in seconds.
const TIME_AT_START: u32 = 100;

/// What `Behaviour::JunkFirst` and `OnlyJunk` send: no SNMP message starts so.
const JUNK: &[u8] = b"not an SNMP message";

/// Who may ask.
pub(crate) enum Access {
    Community {
        version: Version,
        community: Vec<u8>,
    },
    /// One user, its keys localized to `engine_id`.
    Usm {
        engine_id: Vec<u8>,
        user: LocalizedUser,
    },
}

/// How the agent answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Normal,
    /// GETNEXT and GETBULK answer the OIDs asked again, as a buggy agent looping on a table does.
    Loop,
    /// As `Loop`, but only past the first row of the column with these arcs: a walk of it gets one row.
    LoopUnder(&'static [u32]),
    /// Each answer comes after the previous answer again, whose request-id is stale by then.
    StaleFirst,
    /// Each answer comes after a datagram that is no SNMP.
    JunkFirst,
    /// Only junk, never an answer.
    OnlyJunk,
    /// An answer of more than this many varbinds is refused with tooBig.
    TooBigAbove(usize),
    /// The request with this number (1 for the first the agent receives) gets no answer, as if it was lost.
    IgnoreRequest(u32),
    /// Every Report goes unsigned, the notInTimeWindow one too (which agents sign).
    UnsignedReports,
}

/// The agent's counts, and its snmpEngineBoots, which a test bumps to reboot it.
#[derive(Debug)]
struct Counters {
    discoveries: AtomicU32,
    requests: AtomicU32,
    boots: AtomicU32,
}

/// A running agent; dropping it stops it.
pub(crate) struct TestAgent {
    address: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl TestAgent {
    pub(crate) async fn start(mut table: Vec<VarBind>, access: Access, behaviour: Behaviour) -> Self {
        table.sort_by(|left, right| left.oid.cmp(&right.oid));
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = socket.local_addr().expect("the agent's address");
        let counters = Arc::new(Counters {
            discoveries: AtomicU32::new(0),
            requests: AtomicU32::new(0),
            boots: AtomicU32::new(1),
        });
        let responder = Responder {
            table,
            access,
            behaviour,
            counters: Arc::clone(&counters),
            started: Instant::now(),
            salts: Salts::starting_at(1),
            previous: None,
            received: 0,
        };
        let task = tokio::spawn(responder.serve(socket));
        Self {
            address,
            counters,
            task,
        }
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Engine-ID discoveries answered.
    pub(crate) fn discoveries(&self) -> u32 {
        self.counters.discoveries.load(Ordering::Relaxed)
    }

    /// GET, GETNEXT and GETBULK requests answered.
    pub(crate) fn requests(&self) -> u32 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// A restart, as a manager sees it: snmpEngineBoots one more.
    pub(crate) fn reboot(&self) {
        self.counters.boots.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Responder {
    /// Sorted by OID.
    table: Vec<VarBind>,
    access: Access,
    behaviour: Behaviour,
    counters: Arc<Counters>,
    started: Instant,
    salts: Salts,
    /// The last answer sent, for `Behaviour::StaleFirst`.
    previous: Option<Vec<u8>>,
    /// Datagrams received, for `Behaviour::IgnoreRequest`.
    received: u32,
}

impl Responder {
    async fn serve(mut self, socket: UdpSocket) {
        let mut buffer = vec![0; 65_535];
        loop {
            let Ok((length, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            for datagram in self.datagrams(&buffer[..length]) {
                // The test's session may be gone already; the agent carries on.
                let _ = socket.send_to(&datagram, peer).await;
            }
        }
    }

    /// What the agent sends back to `request`, in order.
    fn datagrams(&mut self, request: &[u8]) -> Vec<Vec<u8>> {
        if self.behaviour == Behaviour::OnlyJunk {
            return vec![JUNK.to_vec()];
        }
        self.received += 1;
        if self.behaviour == Behaviour::IgnoreRequest(self.received) {
            return Vec::new();
        }
        let Some(answer) = self.answer(request) else {
            return Vec::new();
        };
        let mut datagrams = Vec::new();
        match self.behaviour {
            Behaviour::JunkFirst => datagrams.push(JUNK.to_vec()),
            Behaviour::StaleFirst => datagrams.extend(self.previous.replace(answer.clone())),
            _ => {}
        }
        datagrams.push(answer);
        datagrams
    }

    fn answer(&self, request: &[u8]) -> Option<Vec<u8>> {
        match Message::decode(request).ok()? {
            Message::Community(message) => self.answer_community(&message),
            Message::V3(message) => self.answer_v3(&message),
        }
    }

    /// Silence for a wrong community, as agents do.
    fn answer_community(&self, message: &CommunityMessage) -> Option<Vec<u8>> {
        let Access::Community { version, community } = &self.access else {
            return None;
        };
        if message.version != *version || message.community != *community {
            return None;
        }
        let response = self.respond(message.pdu.as_pdu()?, *version);
        Some(CommunityMessage::new(*version, community, response).encode())
    }

    /// RFC 3414 §3.2 as an authoritative engine: discovery, the user, the digest, the time window.
    fn answer_v3(&self, message: &V3Message<'_>) -> Option<Vec<u8>> {
        let Access::Usm { engine_id, user } = &self.access else {
            return None;
        };
        let parameters = usm::security_parameters(message).ok()?;
        let msg_id = message.header.msg_id;
        if parameters.engine_id.is_empty() {
            self.counters.discoveries.fetch_add(1, Ordering::Relaxed);
            let asked = message
                .unauthenticated_scoped_pdu()
                .and_then(|scoped_pdu| scoped_pdu.pdu.as_pdu());
            let request_id = asked.map_or(0, |pdu| pdu.request_id);
            return self.report(ReportError::UnknownEngineId, msg_id, request_id, None);
        }
        let scoped_pdu = match usm::open(message, &parameters, user) {
            Ok(scoped_pdu) => scoped_pdu,
            Err(UsmError::WrongDigest) => return self.report(ReportError::WrongDigest, msg_id, 0, None),
            Err(UsmError::UnknownUserName) => {
                return self.report(ReportError::UnknownUserName, msg_id, 0, None);
            }
            Err(_) => return None,
        };
        let request = scoped_pdu.pdu.as_pdu()?;
        let (boots, time) = self.clock();
        if check_authoritative(boots, time, parameters.engine_boots, parameters.engine_time).is_err() {
            let report = ReportError::NotInTimeWindow;
            let signer = (self.behaviour != Behaviour::UnsignedReports).then_some(user);
            return self.report(report, msg_id, request.request_id, signer);
        }
        let response = ScopedPdu::new(engine_id, self.respond(request, Version::V3));
        let header = HeaderData::new(msg_id, MAX_SIZE, user.security_level(), false);
        usm::encode(&header, user, boots, time, &response, self.salts.next_salt()).ok()
    }

    /// A Report of `error`'s counter: signed by `signer` (authNoPriv) for notInTimeWindow, unauthenticated
    /// otherwise, as net-snmp sends them.
    fn report(
        &self,
        error: ReportError,
        msg_id: i32,
        request_id: i32,
        signer: Option<&LocalizedUser>,
    ) -> Option<Vec<u8>> {
        let Access::Usm { engine_id, .. } = &self.access else {
            return None;
        };
        let scoped_pdu = ScopedPdu::new(engine_id, Pdu::report(request_id, error.counter()?, 1));
        let anonymous = LocalizedUser::new(b"", engine_id, None, None).ok()?;
        let (user, level) = match signer {
            Some(user) => (user, SecurityLevel::AuthNoPriv),
            None => (&anonymous, SecurityLevel::NoAuthNoPriv),
        };
        let header = HeaderData::new(msg_id, MAX_SIZE, level, false);
        let (boots, time) = self.clock();
        usm::encode(&header, user, boots, time, &scoped_pdu, self.salts.next_salt()).ok()
    }

    /// snmpEngineBoots and snmpEngineTime now.
    fn clock(&self) -> (u32, u32) {
        let elapsed = u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX);
        let boots = self.counters.boots.load(Ordering::Relaxed);
        (boots, TIME_AT_START.saturating_add(elapsed))
    }

    /// The Response to a GetRequest, GetNextRequest or GetBulkRequest.
    fn respond(&self, request: &Pdu, version: Version) -> Pdu {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let mut response = Pdu::new(PduType::Response, request.request_id, Vec::new());
        match request.pdu_type {
            PduType::Get => {
                for (index, asked) in request.varbinds.iter().enumerate() {
                    let found = self.exact(&asked.oid);
                    if version == Version::V1 && found.value == Value::NoSuchObject {
                        return no_such_name(request, index);
                    }
                    response.varbinds.push(found);
                }
            }
            PduType::GetNext => {
                for (index, asked) in request.varbinds.iter().enumerate() {
                    match self.next(&asked.oid) {
                        Some(next) => response.varbinds.push(next),
                        None if version == Version::V1 => return no_such_name(request, index),
                        None => response.varbinds.push(end_of_mib_view(&asked.oid)),
                    }
                }
            }
            PduType::GetBulk => response.varbinds = self.bulk(request),
            _ => response.error_status = ErrorStatus::GenErr.code(),
        }
        match self.behaviour {
            Behaviour::TooBigAbove(limit) if response.varbinds.len() > limit => too_big(request),
            _ => response,
        }
    }

    /// RFC 3416 §4.2.3: each non-repeater once, then max-repetitions rows of the others.
    fn bulk(&self, request: &Pdu) -> Vec<VarBind> {
        let non_repeaters = usize::try_from(request.non_repeaters()).unwrap_or(0);
        let non_repeaters = non_repeaters.min(request.varbinds.len());
        let repetitions = usize::try_from(request.max_repetitions()).unwrap_or(0);
        let (singles, repeaters) = request.varbinds.split_at(non_repeaters);
        let mut varbinds: Vec<VarBind> = singles.iter().map(|asked| self.next_or_end(&asked.oid)).collect();
        let mut last: Vec<Oid> = repeaters.iter().map(|asked| asked.oid.clone()).collect();
        for _ in 0..repetitions {
            for oid in &mut last {
                let next = self.next_or_end(oid);
                oid.clone_from(&next.oid);
                varbinds.push(next);
            }
        }
        varbinds
    }

    fn exact(&self, oid: &Oid) -> VarBind {
        match self.table.binary_search_by(|row| row.oid.cmp(oid)) {
            Ok(index) => self.table[index].clone(),
            Err(_) => VarBind::new(oid.clone(), Value::NoSuchObject),
        }
    }

    /// The row after `oid`, or, looping, `oid` itself.
    fn next(&self, oid: &Oid) -> Option<VarBind> {
        if self.loops_at(oid) {
            return Some(VarBind::new(oid.clone(), Value::Integer(1)));
        }
        let index = self.table.partition_point(|row| row.oid <= *oid);
        self.table.get(index).cloned()
    }

    /// Whether the agent, misbehaving, answers `oid` itself as what follows `oid`.
    fn loops_at(&self, oid: &Oid) -> bool {
        match self.behaviour {
            Behaviour::Loop => true,
            Behaviour::LoopUnder(column) => {
                let arcs = oid.arcs();
                arcs.len() > column.len() && arcs.starts_with(column)
            }
            _ => false,
        }
    }

    fn next_or_end(&self, oid: &Oid) -> VarBind {
        self.next(oid).unwrap_or_else(|| end_of_mib_view(oid))
    }
}

fn end_of_mib_view(oid: &Oid) -> VarBind {
    VarBind::new(oid.clone(), Value::EndOfMibView)
}

/// SNMPv1's answer past the end of the MIB: noSuchName, error-index the varbind's (1 for the first).
fn no_such_name(request: &Pdu, index: usize) -> Pdu {
    let mut response = Pdu::new(PduType::Response, request.request_id, request.varbinds.clone());
    response.error_status = ErrorStatus::NoSuchName.code();
    response.error_index = i32::try_from(index + 1).unwrap_or(i32::MAX);
    response
}

/// RFC 3416 §4.2.1's alternate Response: tooBig, error-index 0, no variable bindings.
fn too_big(request: &Pdu) -> Pdu {
    let mut response = Pdu::new(PduType::Response, request.request_id, Vec::new());
    response.error_status = ErrorStatus::TooBig.code();
    response
}
