//! One RELP session's rules, as librelp's server keeps them: the client's transaction numbers run from 1
//! without a gap (wrapping after 999,999,999), `open` comes first and is answered with the offers taken,
//! `syslog` carries one message each, and `close` ends the session. Pure: a read's frames in, the messages
//! to hand over and the responses to send once they were delivered out.
//!
//! Where the client breaks these rules the session ends, as librelp ends it: the connection closes, and the
//! client sends again, on a new session, whatever was not acknowledged. The exception, also librelp's, is a
//! `syslog` before `open` (or after an `open` that did not offer it): it is answered `500 command disabled`
//! and the session goes on.

use crate::sources::listener::relp::frame::{Command, MAX_TXNR, RelpFrame, encode};

/// The answer to a message every output took.
const OK: &[u8] = b"200 OK";
/// librelp's answer to `syslog` in a session where it was not agreed on in `open`.
const COMMAND_DISABLED: &[u8] = b"500 command disabled";
/// librelp's answer to a second `open` in one session, which some librelp versions sent: harmless.
const ALREADY_OPEN: &[u8] = b"200 connection already open - ignored";
/// The answer to `rsp`, `serverclose` or an unknown command, just before the session ends.
const UNKNOWN_COMMAND: &[u8] = b"500 command not supported by this server";
/// The start of the answer to `open`: the protocol version librelp speaks (0, the only one there is; a client
/// offering a later one would take 0 as librelp's servers answer it) and who answers.
const OPENED: &[u8] = b"200 OK\nrelp_version=0\nrelp_software=semaphore\ncommands=";

/// The state of one session.
#[derive(Debug)]
pub struct Session {
    /// The transaction number the client's next frame must carry.
    expected_txnr: u32,
    /// `open` was answered.
    opened: bool,
    /// `open` offered `syslog`, and it was taken.
    syslog: bool,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            expected_txnr: 1,
            opened: false,
            syslog: false,
        }
    }
}

/// A `syslog` message, for the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The message without the line feed rsyslog's templates end it with.
    pub bytes: Vec<u8>,
    /// Cut to the data limit.
    pub truncated: bool,
}

/// What one read's frames call for.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The messages of the `syslog` frames, in order, to hand over before anything is answered.
    pub messages: Vec<Message>,
    /// The responses, in transaction order, encoded: to be sent only once the messages were delivered.
    pub responses: Vec<u8>,
    /// Broken rules, the one that ended the session included.
    pub protocol_errors: u64,
    /// Set when the session ends after `responses`.
    pub end: Option<SessionEnd>,
}

/// Why a session ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client sent `close`, answered in the responses.
    Closed,
    /// The client broke the protocol.
    Broken(ProtocolError),
}

/// A rule of the protocol the client broke, ending the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("transaction number {found} where {expected} was due")]
    OutOfSequence { expected: u32, found: u32 },
    #[error("a command a RELP server does not take (rsp, serverclose or unknown)")]
    UnknownCommand,
}

impl Session {
    /// Answers a read's frames in order, up to the end of the session if one of them ends it (anything after
    /// that is ignored, as a closed session reads nothing more).
    pub fn take(&mut self, frames: Vec<RelpFrame>) -> Exchange {
        let mut exchange = Exchange::default();
        for frame in frames {
            self.answer(frame, &mut exchange);
            if exchange.end.is_some() {
                break;
            }
        }
        exchange
    }

    fn answer(&mut self, frame: RelpFrame, exchange: &mut Exchange) {
        if frame.txnr != self.expected_txnr {
            // librelp answers nothing here: the number to answer under is the broken one.
            let error = ProtocolError::OutOfSequence {
                expected: self.expected_txnr,
                found: frame.txnr,
            };
            exchange.protocol_errors += 1;
            exchange.end = Some(SessionEnd::Broken(error));
            return;
        }
        self.expected_txnr = next_txnr(frame.txnr);
        let responses = &mut exchange.responses;
        match frame.command {
            Command::Syslog if self.syslog => {
                if let Some(message) = message(frame.data, frame.truncated) {
                    exchange.messages.push(message);
                }
                encode(responses, frame.txnr, "rsp", OK);
            }
            Command::Syslog => {
                exchange.protocol_errors += 1;
                encode(responses, frame.txnr, "rsp", COMMAND_DISABLED);
            }
            Command::Open => self.open(&frame, responses),
            Command::Close => {
                encode(responses, frame.txnr, "rsp", b"");
                exchange.end = Some(SessionEnd::Closed);
            }
            Command::Other => {
                exchange.protocol_errors += 1;
                encode(responses, frame.txnr, "rsp", UNKNOWN_COMMAND);
                exchange.end = Some(SessionEnd::Broken(ProtocolError::UnknownCommand));
            }
        }
    }

    /// Answers `open` with the offers taken: `syslog` when the client offered it (rsyslog always does).
    fn open(&mut self, frame: &RelpFrame, responses: &mut Vec<u8>) {
        if self.opened {
            encode(responses, frame.txnr, "rsp", ALREADY_OPEN);
            return;
        }
        self.opened = true;
        self.syslog = offers_syslog(&frame.data);
        let mut answer = OPENED.to_vec();
        if self.syslog {
            answer.extend_from_slice(b"syslog");
        }
        encode(responses, frame.txnr, "rsp", &answer);
    }
}

/// The transaction number after `txnr`: librelp's wrap to 1 after the largest.
fn next_txnr(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// Whether the client's offers (lines of `name=value,value`) list `syslog` among its `commands`.
fn offers_syslog(offers: &[u8]) -> bool {
    offers
        .split(|byte| *byte == b'\n')
        .filter_map(|line| line.strip_prefix(b"commands="))
        .flat_map(|values| values.split(|byte| *byte == b','))
        .any(|value| value == b"syslog")
}

/// A `syslog` frame's message: rsyslog's templates end with a line feed (`RSYSLOG_SyslogProtocol23Format`
/// does) that is no part of the message, as with octet counting. An empty message carries nothing to keep, as
/// an empty line or datagram; it is acknowledged all the same.
fn message(mut data: Vec<u8>, truncated: bool) -> Option<Message> {
    // The line end of a cut message is in the part that was dropped.
    if !truncated && data.last() == Some(&b'\n') {
        data.pop();
        if data.last() == Some(&b'\r') {
            data.pop();
        }
    }
    if data.is_empty() {
        return None;
    }
    Some(Message {
        bytes: data,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(txnr: u32, command: Command, data: &[u8]) -> RelpFrame {
        RelpFrame {
            txnr,
            command,
            data: data.to_vec(),
            truncated: false,
        }
    }

    fn open(txnr: u32) -> RelpFrame {
        frame(
            txnr,
            Command::Open,
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog",
        )
    }

    fn texts(messages: &[Message]) -> Vec<String> {
        messages
            .iter()
            .map(|message| String::from_utf8_lossy(&message.bytes).into_owned())
            .collect()
    }

    #[test]
    fn open_syslog_close_as_rsyslog_runs_them() {
        let mut session = Session::default();
        let opened = session.take(vec![open(1)]);
        assert!(opened.messages.is_empty());
        assert_eq!(
            opened.responses,
            b"1 rsp 61 200 OK\nrelp_version=0\nrelp_software=semaphore\ncommands=syslog\n"
        );
        assert_eq!((opened.protocol_errors, opened.end), (0, None));

        let batch = session.take(vec![
            frame(2, Command::Syslog, b"<13>1 - - - - - one\n"),
            frame(3, Command::Syslog, b"<13>two\r\n"),
            frame(4, Command::Syslog, b"\n"),
            frame(5, Command::Syslog, b"<13>three"),
        ]);
        assert_eq!(
            texts(&batch.messages),
            ["<13>1 - - - - - one", "<13>two", "<13>three"]
        );
        assert_eq!(
            batch.responses, b"2 rsp 6 200 OK\n3 rsp 6 200 OK\n4 rsp 6 200 OK\n5 rsp 6 200 OK\n",
            "the empty message is acknowledged too"
        );
        assert_eq!(batch.end, None);

        let closed = session.take(vec![
            frame(6, Command::Close, b""),
            frame(7, Command::Syslog, b"x"),
        ]);
        assert_eq!(closed.responses, b"6 rsp 0\n");
        assert!(closed.messages.is_empty(), "nothing after close is taken");
        assert_eq!(closed.end, Some(SessionEnd::Closed));
    }

    #[test]
    fn syslog_before_open_is_refused_and_the_session_goes_on() {
        let mut session = Session::default();
        let refused = session.take(vec![frame(1, Command::Syslog, b"<13>early")]);
        assert!(refused.messages.is_empty());
        assert_eq!(refused.responses, b"1 rsp 20 500 command disabled\n");
        assert_eq!((refused.protocol_errors, refused.end), (1, None));
        let later = session.take(vec![open(2), frame(3, Command::Syslog, b"<13>later")]);
        assert_eq!(texts(&later.messages), ["<13>later"]);
        assert_eq!(later.protocol_errors, 0);
    }

    #[test]
    fn an_open_without_syslog_leaves_it_disabled() {
        let mut session = Session::default();
        let opened = session.take(vec![
            frame(1, Command::Open, b"relp_version=0\ncommands=other"),
            frame(2, Command::Syslog, b"<13>x"),
            frame(3, Command::Open, b"commands=syslog"),
        ]);
        assert_eq!(
            opened.responses,
            b"1 rsp 55 200 OK\nrelp_version=0\nrelp_software=semaphore\ncommands=\n\
              2 rsp 20 500 command disabled\n\
              3 rsp 37 200 connection already open - ignored\n"
        );
        assert!(opened.messages.is_empty());
    }

    #[test]
    fn a_transaction_number_out_of_sequence_ends_the_session_unanswered() {
        let mut session = Session::default();
        let exchange = session.take(vec![
            open(1),
            frame(2, Command::Syslog, b"<13>kept"),
            frame(4, Command::Syslog, b"<13>skipped ahead"),
            frame(5, Command::Syslog, b"<13>never read"),
        ]);
        assert_eq!(texts(&exchange.messages), ["<13>kept"]);
        let last: &[u8] = b"2 rsp 6 200 OK\n";
        assert!(exchange.responses.ends_with(last), "nothing answered for 4");
        let broken = ProtocolError::OutOfSequence {
            expected: 3,
            found: 4,
        };
        assert_eq!(exchange.end, Some(SessionEnd::Broken(broken)));
        assert_eq!(exchange.protocol_errors, 1);
        let mut zero = Session::default();
        let exchange = zero.take(vec![frame(0, Command::Open, b"")]);
        assert!(exchange.responses.is_empty());
        assert!(matches!(exchange.end, Some(SessionEnd::Broken(_))));
    }

    #[test]
    fn a_command_a_server_does_not_take_ends_the_session_with_an_error_response() {
        let mut session = Session::default();
        let exchange = session.take(vec![open(1), frame(2, Command::Other, b"200 OK")]);
        let expected: &[u8] = b"2 rsp 40 500 command not supported by this server\n";
        assert!(exchange.responses.ends_with(expected));
        let end = Some(SessionEnd::Broken(ProtocolError::UnknownCommand));
        assert_eq!(exchange.end, end);
        assert_eq!(exchange.protocol_errors, 1);
    }

    #[test]
    fn transaction_numbers_wrap_after_the_largest() {
        assert_eq!(next_txnr(1), 2);
        assert_eq!(next_txnr(MAX_TXNR - 1), MAX_TXNR);
        assert_eq!(next_txnr(MAX_TXNR), 1);
        let mut session = Session {
            expected_txnr: MAX_TXNR,
            opened: true,
            syslog: true,
        };
        let exchange = session.take(vec![
            frame(MAX_TXNR, Command::Syslog, b"<13>last"),
            frame(1, Command::Syslog, b"<13>first again"),
        ]);
        assert_eq!(texts(&exchange.messages), ["<13>last", "<13>first again"]);
        assert_eq!(exchange.end, None);
    }

    #[test]
    fn a_cut_message_keeps_its_last_byte() {
        let mut session = Session::default();
        session.take(vec![open(1)]);
        let cut = RelpFrame {
            truncated: true,
            ..frame(2, Command::Syslog, b"<13>cut\n")
        };
        let exchange = session.take(vec![cut]);
        let kept = Message {
            bytes: b"<13>cut\n".to_vec(),
            truncated: true,
        };
        assert_eq!(exchange.messages, [kept]);
    }

    #[test]
    fn offers_are_read_as_librelp_writes_them() {
        assert!(offers_syslog(b"relp_version=0\ncommands=syslog"));
        assert!(offers_syslog(b"commands=other,syslog\nrelp_version=0"));
        assert!(!offers_syslog(b"commands=syslogx"));
        assert!(!offers_syslog(b"relp_version=0\nsyslog"));
        assert!(!offers_syslog(b""));
    }
}
