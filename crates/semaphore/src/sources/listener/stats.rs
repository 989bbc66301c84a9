//! Per-listener counters: what arrived, what was refused, cut or dropped, so the component owning the
//! listener can export them as metrics.
//!
//! Every value only grows; connections open now are accepted minus closed (two counters rather than a gauge,
//! STYLE.md section 7). A snapshot reads each counter on its own, so two fields may be a few events apart.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::sources::listener::framing::FramerOutput;

/// One monotonic counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `amount` and returns the new total.
    pub fn add(&self, amount: u64) -> u64 {
        // Relaxed: the counters order nothing; they are read only for reporting.
        self.0.fetch_add(amount, Ordering::Relaxed).wrapping_add(amount)
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The counters of one listener, shared by its accept loop, its connections and its owner.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Frames handed to the handler (datagrams for UDP).
    pub frames: Counter,
    /// Bytes read from sockets, before framing.
    pub bytes: Counter,
    /// TCP/TLS connections admitted (under `max_connections`); a TLS one counts before its handshake.
    pub connections_accepted: Counter,
    /// Admitted connections that ended, for whatever reason.
    pub connections_closed: Counter,
    /// Connections closed at once because `max_connections` were already open.
    pub connections_refused: Counter,
    /// Connections closed because no byte arrived for `idle_timeout`.
    pub idle_closes: Counter,
    /// TLS handshakes that failed or timed out.
    pub tls_handshake_failures: Counter,
    /// Frames longer than `max_frame_bytes`, delivered cut to the limit and flagged.
    pub oversize_frames: Counter,
    /// Stream input that was not a frame: a bad octet-counting length, a frame cut short by the end of the
    /// connection; for RELP also a broken rule of the protocol (a transaction number out of sequence, a
    /// command a server does not take, `syslog` before `open`).
    pub framing_errors: Counter,
    /// Bytes dropped: the part of an oversize frame beyond the limit, input skipped after a framing error.
    pub discarded_bytes: Counter,
    /// `accept` failures (out of file descriptors, typically); the loop backs off and goes on.
    pub accept_errors: Counter,
    /// Reads that failed (a reset connection, a UDP receive error).
    pub read_errors: Counter,
}

/// The counters at one moment, as plain numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenerStatsSnapshot {
    pub frames: u64,
    pub bytes: u64,
    pub connections_accepted: u64,
    pub connections_closed: u64,
    /// Accepted minus closed.
    pub connections_active: u64,
    pub connections_refused: u64,
    pub idle_closes: u64,
    pub tls_handshake_failures: u64,
    pub oversize_frames: u64,
    pub framing_errors: u64,
    pub discarded_bytes: u64,
    pub accept_errors: u64,
    pub read_errors: u64,
}

impl ListenerStats {
    pub fn snapshot(&self) -> ListenerStatsSnapshot {
        let connections_accepted = self.connections_accepted.get();
        let connections_closed = self.connections_closed.get();
        ListenerStatsSnapshot {
            frames: self.frames.get(),
            bytes: self.bytes.get(),
            connections_accepted,
            connections_closed,
            // Saturating: the two loads are not one atomic read, so a close may be seen before its accept.
            connections_active: connections_accepted.saturating_sub(connections_closed),
            connections_refused: self.connections_refused.get(),
            idle_closes: self.idle_closes.get(),
            tls_handshake_failures: self.tls_handshake_failures.get(),
            oversize_frames: self.oversize_frames.get(),
            framing_errors: self.framing_errors.get(),
            discarded_bytes: self.discarded_bytes.get(),
            accept_errors: self.accept_errors.get(),
            read_errors: self.read_errors.get(),
        }
    }

    /// Counts what a framer cut, dropped or could not frame (the frames themselves are counted on delivery).
    pub fn record_framing(&self, output: &FramerOutput) {
        self.oversize_frames.add(output.oversize_frames);
        self.framing_errors.add(output.framing_errors);
        self.discarded_bytes.add(output.discarded_bytes);
    }
}

/// Whether the `total`-th occurrence of a repeating problem is logged: the 1st, 2nd, 4th, 8th… so a flood
/// of bad connections writes a few lines, each giving the running total, while the counter has every one
/// (STYLE.md section 6: rate-limit repeated log lines).
pub fn worth_logging(total: u64) -> bool {
    total.is_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reports_active_connections() {
        let stats = ListenerStats::default();
        stats.connections_accepted.add(3);
        stats.connections_closed.add(1);
        assert_eq!(stats.frames.add(5), 5);
        assert_eq!(stats.frames.add(2), 7);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.connections_active, 2);
        assert_eq!(snapshot.frames, 7);
    }

    #[test]
    fn logging_thins_out() {
        let logged: Vec<u64> = (1..=100).filter(|total| worth_logging(*total)).collect();
        assert_eq!(logged, vec![1, 2, 4, 8, 16, 32, 64]);
        assert!(!worth_logging(0));
    }
}
