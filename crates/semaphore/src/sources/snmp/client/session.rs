//! [`Session`]: an SNMP manager's session with one agent over UDP, as the poller uses it: GET of scalars and
//! GETBULK walks of table columns, for SNMPv1 and v2c with a community or SNMPv3 with a USM user. A session
//! keeps what it learned of an SNMPv3 agent (engine ID, boots and time, localized keys) from poll to poll,
//! and holds a socket only while it polls.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::sources::snmp::client::community::CommunityRequest;
use crate::sources::snmp::client::discovery::Discovery;
use crate::sources::snmp::client::engine::Agent;
use crate::sources::snmp::client::error::{PollError, PollErrorKind};
use crate::sources::snmp::client::exchange::{Tries, exchange};
use crate::sources::snmp::client::ids::RequestIds;
use crate::sources::snmp::client::security::Security;
use crate::sources::snmp::client::socket::Link;
use crate::sources::snmp::client::usm_request::{UsmAnswer, UsmRequest};
use crate::sources::snmp::client::walk::{Walk, Walked};
use crate::sources::snmp::wire::{
    ErrorStatus, Oid, Pdu, ReportError, Salts, ScopedPdu, UsmUser, VarBind, Version,
};

#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// How long each try of a request waits for its answer.
    pub timeout: Duration,
    /// Extra tries after the first.
    pub retries: u32,
    /// GETBULK max-repetitions: the rows asked per column in one request.
    pub max_repetitions: u32,
    /// The most rows one column of a walk may have: buggy agents loop.
    pub max_rows: usize,
    /// The most varbinds one walk keeps, all its columns together: what bounds a walk's memory.
    pub max_varbinds: usize,
}

pub struct Session {
    target: SocketAddr,
    security: Security,
    options: SessionOptions,
    link: Link,
    ids: RequestIds,
    /// Privacy salts for this session's messages, from a random start.
    salts: Salts,
    /// The SNMPv3 agent once discovered.
    agent: Option<Agent>,
    /// GETBULK max-repetitions now: the option's, halved for each tooBig the agent answered.
    max_repetitions: u32,
}

impl Session {
    /// No I/O yet. The session keeps what it learned (v3 engine ID, boots/time, localized keys) across polls.
    pub fn new(target: SocketAddr, security: Security, options: SessionOptions) -> Self {
        let mut ids = RequestIds::new(target);
        let salts = Salts::starting_at(ids.next_u64());
        Self {
            target,
            security,
            max_repetitions: options.max_repetitions.max(1),
            options,
            link: Link::new(target),
            ids,
            salts,
            agent: None,
        }
    }

    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// GET of these OIDs; exceptions (noSuchObject/noSuchInstance) come back as values, not errors.
    pub async fn get(&mut self, oids: &[Oid]) -> Result<Vec<VarBind>, PollError> {
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        let answered = self.request(Pdu::get(0, oids)).await;
        let varbinds = answered.and_then(|response| without_error(response).map(|pdu| pdu.varbinds));
        varbinds.map_err(|kind| PollError::new(self.target, kind))
    }

    /// GETBULK walk of several table columns at once (non-repeaters 0, every unfinished column in each
    /// request); the rows are index-aligned with `columns`: each column's varbinds whose OID is under it, in
    /// order. A column ends at the first OID outside it, or endOfMibView. A column the agent loops in (an OID
    /// not greater than the one asked), or longer than `max_rows`, ends early with its rows so far and its
    /// [`ColumnEnd`](crate::sources::snmp::client::ColumnEnd), as every open column does once the walk kept
    /// `max_varbinds`; the others are walked on. SNMPv1 has no GETBULK: it walks with GETNEXT.
    pub async fn walk(&mut self, columns: &[Oid]) -> Result<Walked, PollError> {
        let walked = self.walk_columns(columns).await;
        walked.map_err(|kind| PollError::new(self.target, kind))
    }

    /// Closes the UDP socket until the next request.
    pub fn release(&mut self) {
        self.link.release();
    }

    async fn walk_columns(&mut self, columns: &[Oid]) -> Result<Walked, PollErrorKind> {
        let mut walk = Walk::new(columns, self.options.max_rows, self.options.max_varbinds);
        let v1 = self.security.version() == Version::V1;
        let mut first_answer = None;
        while let Some(asked) = walk.next_request() {
            let response = if v1 {
                self.request(Pdu::get_next(0, &asked)).await?
            } else {
                self.get_bulk(&asked).await?
            };
            first_answer.get_or_insert_with(Instant::now);
            match response.error() {
                ErrorStatus::NoError => walk.take(response.varbinds),
                // SNMPv1's end of the MIB view: the guard ends the column the error-index names.
                ErrorStatus::NoSuchName if v1 && walk.end_asked(response.error_index) => {}
                _ => return Err(error_status(&response)),
            }
        }
        Ok(walk.finish(first_answer))
    }

    /// A GETBULK of the next rows of `asked`; a tooBig answer halves max-repetitions and asks again, down to
    /// one repetition.
    async fn get_bulk(&mut self, asked: &[Oid]) -> Result<Pdu, PollErrorKind> {
        loop {
            let repetitions = i32::try_from(self.max_repetitions).unwrap_or(i32::MAX);
            let response = self.request(Pdu::get_bulk(0, 0, repetitions, asked)).await?;
            if response.error() != ErrorStatus::TooBig || self.max_repetitions <= 1 {
                return Ok(response);
            }
            self.max_repetitions /= 2;
        }
    }

    /// Sends `pdu` (its request-id set per try) and returns the agent's Response, whatever its error-status.
    async fn request(&mut self, pdu: Pdu) -> Result<Pdu, PollErrorKind> {
        let tries = self.tries();
        match &self.security {
            Security::Community { community, .. } => {
                let mut request = CommunityRequest::new(tries.version, community, pdu);
                exchange(&mut self.link, &mut self.ids, tries, &mut request).await
            }
            Security::Usm(user) => {
                let user = Arc::clone(user);
                self.usm_request(&user, pdu).await
            }
        }
    }

    /// An SNMPv3 request: discovery first if the agent is not known yet; a Report is acted on once each way
    /// ([`Session::recover`]) and asked again, or is final.
    async fn usm_request(&mut self, user: &UsmUser, pdu: Pdu) -> Result<Pdu, PollErrorKind> {
        let tries = self.tries();
        let mut scoped_pdu = ScopedPdu::new(&[], pdu);
        let mut recovery = Recovery::default();
        loop {
            let Some(agent) = self.agent.as_mut() else {
                let discovered = exchange(&mut self.link, &mut self.ids, tries, &mut Discovery).await?;
                self.agent = Some(Agent::learn(user, discovered));
                continue;
            };
            let mut request = UsmRequest::new(agent, &self.salts, &mut scoped_pdu);
            let answer = exchange(&mut self.link, &mut self.ids, tries, &mut request).await?;
            match answer {
                UsmAnswer::Response(response) => return Ok(response),
                UsmAnswer::Report { error, clock } => self.recover(error, clock, &mut recovery)?,
            }
        }
    }

    /// What a Report makes the session do before it asks again: a notInTimeWindow Report the agent signed
    /// sets the agent's clock from its boots and time (RFC 3414 §3.2.7a: the agent signs it), once; an
    /// unknownEngineID Report, or a notInTimeWindow one nobody signed, makes it discover the agent again,
    /// once. An unsigned Report is anyone's to send: a hint to ask again, never a clock to believe. Any other
    /// Report, or one again, is the error.
    fn recover(
        &mut self,
        error: ReportError,
        clock: Option<(u32, u32)>,
        recovery: &mut Recovery,
    ) -> Result<(), PollErrorKind> {
        match (error, clock) {
            (ReportError::NotInTimeWindow, Some((boots, time))) if !recovery.resynchronized => {
                recovery.resynchronized = true;
                if let Some(agent) = self.agent.as_mut() {
                    agent.resynchronize(boots, time);
                }
                Ok(())
            }
            (ReportError::UnknownEngineId, _) | (ReportError::NotInTimeWindow, None)
                if !recovery.rediscovered =>
            {
                recovery.rediscovered = true;
                self.agent = None;
                Ok(())
            }
            (error, _) => Err(PollErrorKind::from_report(error)),
        }
    }

    fn tries(&self) -> Tries {
        Tries {
            timeout: self.options.timeout,
            retries: self.options.retries,
            version: self.security.version(),
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Session")
            .field("target", &self.target)
            .field("security", &self.security)
            .field("options", &self.options)
            .field("engine_id", &self.agent.as_ref().map(|agent| &agent.engine_id))
            .finish_non_exhaustive()
    }
}

/// What one SNMPv3 request already did about the agent's Reports: each at most once.
#[derive(Debug, Default)]
struct Recovery {
    resynchronized: bool,
    rediscovered: bool,
}

/// The Response if its error-status is noError.
fn without_error(response: Pdu) -> Result<Pdu, PollErrorKind> {
    if response.error() == ErrorStatus::NoError {
        Ok(response)
    } else {
        Err(error_status(&response))
    }
}

fn error_status(response: &Pdu) -> PollErrorKind {
    PollErrorKind::ErrorStatus {
        status: response.error(),
        index: response.error_index,
    }
}
