//! One request's tries, whatever the version: send, wait until the try's deadline for an answer the
//! [`Conversation`] accepts, skip what is not for this request (late answers to earlier requests), and send
//! again with the next id until the tries are spent. A datagram refused as malformed (or by USM) does not
//! end the wait, but it is the error when nothing valid comes, rather than a timeout.

use std::time::Duration;

use tokio::time::Instant;

use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::client::ids::{IdRange, RequestIds};
use crate::sources::snmp::client::socket::Link;
use crate::sources::snmp::wire::Version;

/// What one kind of request sends and accepts.
pub(super) trait Conversation {
    type Answer;

    /// The datagram of one try, whose request-id (and msgID) is `id`.
    fn request(&mut self, id: i32) -> Result<Vec<u8>, PollErrorKind>;

    /// What `datagram` is to this request; `sent` holds the ids its tries went with.
    fn answer(&mut self, datagram: &[u8], sent: &IdRange) -> Verdict<Self::Answer>;
}

/// A received datagram, as the conversation sees it.
pub(super) enum Verdict<T> {
    /// The answer.
    Accept(T),
    /// Not for this request: ignored.
    Skip,
    /// For this request, perhaps, but refused: the error if no answer comes.
    Reject(PollErrorKind),
}

/// How long each try waits and how many there are.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tries {
    pub timeout: Duration,
    pub retries: u32,
    /// For the timeout's text.
    pub version: Version,
}

/// Sends `conversation`'s request until it is answered or the tries are spent.
pub(super) async fn exchange<C: Conversation>(
    link: &mut Link,
    ids: &mut RequestIds,
    tries: Tries,
    conversation: &mut C,
) -> Result<C::Answer, PollErrorKind> {
    let mut sent = ids.start();
    let mut rejected = None;
    let count = tries.retries.saturating_add(1);
    for _ in 0..count {
        let datagram = conversation.request(sent.next_id())?;
        let transport = link.open().await.map_err(PollErrorKind::Io)?;
        transport.send(&datagram).await.map_err(PollErrorKind::Io)?;
        let deadline = Instant::now() + tries.timeout;
        while let Some(received) = transport.receive(deadline).await.map_err(PollErrorKind::Io)? {
            match conversation.answer(received, &sent) {
                Verdict::Accept(answer) => return Ok(answer),
                Verdict::Skip => {}
                Verdict::Reject(kind) => rejected = Some(kind),
            }
        }
    }
    Err(rejected.unwrap_or(PollErrorKind::Timeout {
        tries: count,
        timeout: tries.timeout,
        version: tries.version,
    }))
}
