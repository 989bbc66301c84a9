//! RELP frames, as librelp writes and reads them: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, where TXNR and
//! DATALEN are 1 to 9 decimal digits, COMMAND is 1 to 32 ASCII letters, and a frame whose DATALEN is 0 has
//! neither the second SP nor DATA. [`RelpParser`] reads them from a byte stream as it arrives; [`encode`]
//! writes the server's.
//!
//! Pure (bytes in, frames out, no I/O) and never panicking, so every edge is unit-tested without a socket.
//! Every input byte ends up in exactly one place: the data of a frame, the framing of a frame
//! (`framing_bytes`), the discarded count, or the parser's frame in progress until more arrives.
//!
//! Unlike syslog's framings, RELP has no point where a broken stream makes sense again, so the parser stops
//! at the first byte that does not fit and says why ([`FrameError`]); the connection then closes, as librelp
//! tears such a session down, and the sender sends again what was not acknowledged.
//! One deliberate difference: librelp refuses DATA longer than its limit and breaks the session, after which
//! rsyslog sends the same message again, for ever. Here such a frame is kept cut to `max_data_bytes` and
//! flagged `truncated`, the rest of its data skipped as it arrives: memory stays bounded, and the message
//! still arrives, marked.

use std::io::Write;

/// Most digits of a transaction number or a data length: librelp's limit, 999,999,999.
const MAX_DIGITS: u32 = 9;

/// The longest command librelp reads.
const MAX_COMMAND_BYTES: usize = 32;

/// The largest transaction number; librelp's next one after it is 1 again.
pub const MAX_TXNR: u32 = 999_999_999;

/// A command as a server sees it; what a server does not take from a client is [`Command::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Open,
    Syslog,
    Close,
    /// `rsp` and `serverclose` (what a server sends, never a client) or a command librelp does not know.
    Other,
}

impl Command {
    fn from_name(name: &[u8]) -> Self {
        match name {
            b"open" => Command::Open,
            b"syslog" => Command::Syslog,
            b"close" => Command::Close,
            _ => Command::Other,
        }
    }
}

/// One frame as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelpFrame {
    pub txnr: u32,
    pub command: Command,
    /// DATA, cut to `max_data_bytes` when longer.
    pub data: Vec<u8>,
    /// DATALEN was larger than `max_data_bytes`: `data` is its start only.
    pub truncated: bool,
}

/// Why the input is not RELP from some byte on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the transaction number is not 1 to 9 digits and a space")]
    Txnr,
    #[error("the command is not 1 to 32 letters and a space")]
    Command,
    #[error("the data length is not 1 to 9 digits and a space (or, for no data, a line feed)")]
    DataLength,
    #[error("the frame does not end with a line feed after its data")]
    Trailer,
    #[error("the connection ended inside a frame")]
    Cut,
}

/// What the parser made of some input.
#[derive(Debug, Default)]
pub struct ParsedFrames {
    pub frames: Vec<RelpFrame>,
    /// Frames whose DATALEN was over the limit, delivered cut and flagged.
    pub oversize_frames: u64,
    /// The framing of the frames delivered: transaction numbers, commands, lengths, spaces, line feeds.
    pub framing_bytes: u64,
    /// Input not delivered: data beyond the limit, a frame that broke off (its bytes so far included), and
    /// everything after it.
    pub discarded_bytes: u64,
    /// Set when parsing stopped: nothing after it is read.
    pub error: Option<FrameError>,
}

/// Where in a frame the next byte goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Txnr,
    Command,
    DataLength,
    /// `remaining` bytes of DATA still to come.
    Data {
        remaining: u32,
    },
    Trailer,
    /// After an error: nothing more is parsed.
    Failed,
}

/// Reads one connection's frames, keeping the frame in progress between reads. One parser per connection.
#[derive(Debug)]
pub struct RelpParser {
    max_data_bytes: usize,
    state: State,
    /// The frame in progress: its fields so far.
    txnr: u32,
    digits: u32,
    command: [u8; MAX_COMMAND_BYTES],
    command_length: usize,
    data_length: u32,
    data: Vec<u8>,
    /// Its framing bytes so far: counted as framing once it is complete, as discarded if it breaks off.
    pending_framing: u64,
}

impl RelpParser {
    /// A parser keeping at most `max_data_bytes` of a frame's data (a zero limit is taken as 1).
    pub fn new(max_data_bytes: usize) -> Self {
        Self {
            max_data_bytes: max_data_bytes.max(1),
            state: State::Txnr,
            txnr: 0,
            digits: 0,
            command: [0; MAX_COMMAND_BYTES],
            command_length: 0,
            data_length: 0,
            data: Vec::new(),
            pending_framing: 0,
        }
    }

    /// Takes the next bytes read: complete frames go to `output`. After an error the rest of the input, now
    /// and later, is discarded.
    pub fn push(&mut self, bytes: &[u8], output: &mut ParsedFrames) {
        let mut rest = bytes;
        while let Some(&byte) = rest.first() {
            match self.step(byte, rest, output) {
                Ok(used) => rest = &rest[used..],
                Err(error) => {
                    // The byte at fault goes with the frame it broke: both are discarded.
                    self.abandon_frame(output);
                    output.discarded_bytes += 1;
                    output.error = Some(error);
                    self.state = State::Failed;
                    rest = &rest[1..];
                }
            }
        }
    }

    /// The connection ended: a frame it cut short is discarded and reported as [`FrameError::Cut`].
    pub fn finish(&mut self, output: &mut ParsedFrames) {
        let cut = match self.state {
            State::Txnr => self.pending_framing > 0,
            State::Failed => false,
            State::Command | State::DataLength | State::Data { .. } | State::Trailer => true,
        };
        if cut {
            self.abandon_frame(output);
            output.error = Some(FrameError::Cut);
        }
    }

    /// Bytes of data held for the frame in progress: never more than `max_data_bytes`.
    pub fn buffered(&self) -> usize {
        self.data.len()
    }

    /// Handles the start of `input` (`byte` is its first); returns how many bytes it used, at least one.
    fn step(&mut self, byte: u8, input: &[u8], output: &mut ParsedFrames) -> Result<usize, FrameError> {
        match self.state {
            State::Data { remaining } => Ok(self.take_data(input, remaining, output)),
            State::Failed => {
                output.discarded_bytes += input.len() as u64;
                Ok(input.len())
            }
            State::Txnr => self.txnr_byte(byte).map(|()| 1),
            State::Command => self.command_byte(byte).map(|()| 1),
            State::DataLength => self.length_byte(byte, output).map(|()| 1),
            State::Trailer => {
                if byte != b'\n' {
                    return Err(FrameError::Trailer);
                }
                self.pending_framing += 1;
                self.complete(output);
                Ok(1)
            }
        }
    }

    fn txnr_byte(&mut self, byte: u8) -> Result<(), FrameError> {
        match byte {
            // Nine digits at most, so this stays below 10^9: no overflow.
            b'0'..=b'9' if self.digits < MAX_DIGITS => {
                self.txnr = self.txnr * 10 + u32::from(byte - b'0');
                self.digits += 1;
            }
            b' ' if self.digits > 0 => {
                self.digits = 0;
                self.state = State::Command;
            }
            _ => return Err(FrameError::Txnr),
        }
        self.pending_framing += 1;
        Ok(())
    }

    fn command_byte(&mut self, byte: u8) -> Result<(), FrameError> {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' if self.command_length < MAX_COMMAND_BYTES => {
                self.command[self.command_length] = byte;
                self.command_length += 1;
            }
            b' ' if self.command_length > 0 => self.state = State::DataLength,
            _ => return Err(FrameError::Command),
        }
        self.pending_framing += 1;
        Ok(())
    }

    fn length_byte(&mut self, byte: u8, output: &mut ParsedFrames) -> Result<(), FrameError> {
        match byte {
            b'0'..=b'9' if self.digits < MAX_DIGITS => {
                self.data_length = self.data_length * 10 + u32::from(byte - b'0');
                self.digits += 1;
                self.pending_framing += 1;
            }
            // No data: the trailer follows the length directly.
            b'\n' if self.digits > 0 && self.data_length == 0 => {
                self.pending_framing += 1;
                self.complete(output);
            }
            b' ' if self.digits > 0 && self.data_length > 0 => {
                let kept = (self.data_length as usize).min(self.max_data_bytes);
                self.data = Vec::with_capacity(kept);
                self.state = State::Data {
                    remaining: self.data_length,
                };
                self.pending_framing += 1;
            }
            _ => return Err(FrameError::DataLength),
        }
        Ok(())
    }

    /// Takes what `input` holds of the data (up to `remaining` bytes), keeping it up to the limit.
    fn take_data(&mut self, input: &[u8], remaining: u32, output: &mut ParsedFrames) -> usize {
        // `remaining` is below 10^9, so it fits in usize, and `taken` (at most `remaining`) back in u32.
        let taken = input.len().min(remaining as usize);
        let room = self.max_data_bytes.saturating_sub(self.data.len());
        let kept = taken.min(room);
        self.data.extend_from_slice(&input[..kept]);
        output.discarded_bytes += (taken - kept) as u64;
        self.state = match remaining - taken as u32 {
            0 => State::Trailer,
            remaining => State::Data { remaining },
        };
        taken
    }

    fn complete(&mut self, output: &mut ParsedFrames) {
        let length = self.data_length as usize;
        let truncated = length > self.max_data_bytes;
        if truncated {
            output.oversize_frames += 1;
        }
        output.framing_bytes += self.pending_framing;
        output.frames.push(RelpFrame {
            txnr: self.txnr,
            command: Command::from_name(&self.command[..self.command_length]),
            data: std::mem::take(&mut self.data),
            truncated,
        });
        self.reset();
    }

    /// Drops the frame in progress, counting what was read of it as discarded.
    fn abandon_frame(&mut self, output: &mut ParsedFrames) {
        output.discarded_bytes += self.pending_framing + self.data.len() as u64;
        self.reset();
    }

    fn reset(&mut self) {
        self.state = State::Txnr;
        self.txnr = 0;
        self.digits = 0;
        self.command_length = 0;
        self.data_length = 0;
        self.data = Vec::new();
        self.pending_framing = 0;
    }
}

/// Appends one frame to `out`: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, as librelp writes it.
pub fn encode(out: &mut Vec<u8>, txnr: u32, command: &str, data: &[u8]) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{txnr} {command} {}", data.len());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// Appends librelp's hint that the server is closing the session (transaction number 0, never answered): the
/// client then reconnects at once instead of finding the connection gone on its next send.
pub fn encode_serverclose(out: &mut Vec<u8>) {
    encode(out, 0, "serverclose", b"");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks`, then finishes; returns the frames and the output.
    fn parse(max: usize, chunks: &[&[u8]]) -> (Vec<RelpFrame>, ParsedFrames) {
        let mut parser = RelpParser::new(max);
        let mut output = ParsedFrames::default();
        for chunk in chunks {
            parser.push(chunk, &mut output);
        }
        parser.finish(&mut output);
        assert_eq!(parser.buffered(), 0);
        (std::mem::take(&mut output.frames), output)
    }

    fn frame(txnr: u32, command: Command, data: &[u8]) -> RelpFrame {
        RelpFrame {
            txnr,
            command,
            data: data.to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn what_rsyslog_sends_is_read_as_sent() {
        // As captured from rsyslog 8.2302's omrelp (librelp 1.11): the offers, then pipelined messages whose
        // data ends with the template's line feed, then close.
        let offers =
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog";
        let input = [
            b"1 open 86 ".as_slice(),
            offers,
            b"\n2 syslog 12 <13>1 - - x\n\n3 syslog 12 <13>1 - - y\n\n4 close 0\n",
        ]
        .concat();
        let (frames, output) = parse(1000, &[input.as_slice()]);
        assert_eq!(
            frames,
            [
                frame(1, Command::Open, offers),
                frame(2, Command::Syslog, b"<13>1 - - x\n"),
                frame(3, Command::Syslog, b"<13>1 - - y\n"),
                frame(4, Command::Close, b""),
            ]
        );
        assert_eq!(output.error, None);
        assert_eq!((output.oversize_frames, output.discarded_bytes), (0, 0));
    }

    #[test]
    fn frames_split_anywhere_across_reads_are_whole() {
        let input: &[u8] = b"7 syslog 5 hello\n8 rsp 6 200 OK\n9 serverclose 0\n";
        for split in 0..=input.len() {
            let (head, tail) = input.split_at(split);
            let (frames, output) = parse(100, &[head, tail]);
            assert_eq!(
                frames,
                [
                    frame(7, Command::Syslog, b"hello"),
                    frame(8, Command::Other, b"200 OK"),
                    frame(9, Command::Other, b""),
                ],
                "split at {split}"
            );
            assert_eq!(output.error, None, "split at {split}");
        }
        // One byte at a time.
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse(100, &bytes).0.len(), 3);
    }

    #[test]
    fn a_bad_header_stops_the_parsing_after_the_good_frames() {
        let cases: &[(&[u8], FrameError)] = &[
            (b"x syslog 1 a\n", FrameError::Txnr),
            (b"12a syslog 1 a\n", FrameError::Txnr),
            (b" 1 syslog 1 a\n", FrameError::Txnr),
            (b"1234567890 syslog 1 a\n", FrameError::Txnr),
            (b"-1 syslog 1 a\n", FrameError::Txnr),
            (b"1  syslog 1 a\n", FrameError::Command),
            (b"1 sys-log 1 a\n", FrameError::Command),
            (b"1 abcdefghijklmnopqrstuvwxyzabcdefg 1 a\n", FrameError::Command),
            (b"1 syslog x\n", FrameError::DataLength),
            (b"1 syslog \n", FrameError::DataLength),
            (b"1 syslog 1234567890 a\n", FrameError::DataLength),
            (b"1 syslog 0 \n", FrameError::DataLength),
            (b"1 syslog 5\n", FrameError::DataLength),
            (b"1 syslog 1 ab\n", FrameError::Trailer),
            (b"1 syslog 1 a\r\n", FrameError::Trailer),
        ];
        for (bad, error) in cases {
            let input = [b"1 syslog 2 ok\n".as_slice(), *bad, b"3 syslog 4 next\n"].concat();
            let (frames, output) = parse(100, &[input.as_slice()]);
            let shown = String::from_utf8_lossy(bad);
            assert_eq!(frames, [frame(1, Command::Syslog, b"ok")], "{shown}");
            assert_eq!(output.error, Some(*error), "{shown}");
            assert_eq!(
                output.discarded_bytes as usize,
                bad.len() + 16,
                "{shown}: everything after the good frame"
            );
        }
    }

    #[test]
    fn thirty_two_letters_and_nine_digits_are_the_limits() {
        let input = b"999999999 abcdefghijklmnopqrstuvwxyzABCDEF 000000003 abc\n";
        let (frames, output) = parse(100, &[input]);
        assert_eq!(frames, [frame(MAX_TXNR, Command::Other, b"abc")]);
        assert_eq!(output.error, None);
    }

    #[test]
    fn data_over_the_limit_is_cut_flagged_and_skipped_as_it_arrives() {
        let mut parser = RelpParser::new(4);
        let mut output = ParsedFrames::default();
        parser.push(b"1 syslog 10 abcdef", &mut output);
        assert!(output.frames.is_empty());
        assert_eq!(parser.buffered(), 4, "only the limit is held");
        parser.push(b"ghij\n2 syslog 2 xy\n", &mut output);
        parser.finish(&mut output);
        assert_eq!(
            output.frames,
            [
                RelpFrame {
                    txnr: 1,
                    command: Command::Syslog,
                    data: b"abcd".to_vec(),
                    truncated: true,
                },
                frame(2, Command::Syslog, b"xy"),
            ]
        );
        assert_eq!((output.oversize_frames, output.discarded_bytes), (1, 6));
        assert_eq!(output.error, None);
    }

    #[test]
    fn a_huge_data_length_holds_no_more_than_the_limit() {
        let mut parser = RelpParser::new(480);
        let mut output = ParsedFrames::default();
        parser.push(b"1 syslog 999999999 ", &mut output);
        for _ in 0..100 {
            parser.push(&[b'x'; 10_000], &mut output);
            assert!(parser.buffered() <= 480);
        }
        assert!(output.frames.is_empty());
        parser.finish(&mut output);
        assert_eq!(output.error, Some(FrameError::Cut));
        assert_eq!(output.discarded_bytes, 19 + 1_000_000);
    }

    #[test]
    fn the_end_of_the_connection_inside_a_frame_is_reported() {
        for input in [
            &b"1"[..],
            b"1 sys",
            b"1 syslog 5",
            b"1 syslog 5 hel",
            b"1 syslog 5 hello",
        ] {
            let (frames, output) = parse(100, &[input]);
            assert!(frames.is_empty());
            assert_eq!(output.error, Some(FrameError::Cut), "{input:?}");
            assert_eq!(output.discarded_bytes, input.len() as u64);
        }
        let (_, output) = parse(100, &[b"1 close 0\n"]);
        assert_eq!(output.error, None, "between frames the end is clean");
    }

    #[test]
    fn frames_are_encoded_as_librelp_writes_them() {
        let mut out = Vec::new();
        encode(&mut out, 1, "rsp", b"200 OK\nrelp_version=0\ncommands=syslog");
        encode(&mut out, 2, "rsp", b"200 OK");
        encode(&mut out, 3, "rsp", b"");
        encode_serverclose(&mut out);
        assert_eq!(
            out,
            b"1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n2 rsp 6 200 OK\n3 rsp 0\n0 serverclose 0\n"
        );
        // What is encoded parses back.
        let (frames, output) = parse(100, &[out.as_slice()]);
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0].data, b"200 OK\nrelp_version=0\ncommands=syslog");
        assert_eq!(output.error, None);
    }

    /// xorshift64: deterministic, no dependency (as in `framing`'s tests).
    struct Random(u64);

    impl Random {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next_u64() % bound as u64) as usize
        }

        /// Mostly the bytes RELP framing turns on, so every path is taken; sometimes any byte.
        fn byte(&mut self) -> u8 {
            const INTERESTING: &[u8] = b"0123456789   \n\nsyslogopenclose";
            if self.below(8) == 0 {
                self.next_u64() as u8
            } else {
                INTERESTING[self.below(INTERESTING.len())]
            }
        }

        /// A valid frame with random data, sometimes longer than `max`.
        fn frame(&mut self, txnr: u32, max: usize) -> (Vec<u8>, RelpFrame) {
            let length = self.below(2 * max + 2);
            let data: Vec<u8> = (0..length).map(|_| self.next_u64() as u8).collect();
            let mut bytes = Vec::new();
            encode(&mut bytes, txnr, "syslog", &data);
            let truncated = length > max;
            let expected = RelpFrame {
                txnr,
                command: Command::Syslog,
                data: data[..length.min(max)].to_vec(),
                truncated,
            };
            (bytes, expected)
        }
    }

    /// Pushes `input` in random pieces, checking the memory bound after each; then finishes.
    fn parse_in_pieces(random: &mut Random, max: usize, input: &[u8]) -> ParsedFrames {
        let mut parser = RelpParser::new(max);
        let mut output = ParsedFrames::default();
        let mut rest = input;
        while !rest.is_empty() {
            let (piece, remaining) = rest.split_at(1 + random.below(40).min(rest.len() - 1));
            parser.push(piece, &mut output);
            assert!(parser.buffered() <= max, "holds more than the limit");
            rest = remaining;
        }
        parser.finish(&mut output);
        assert_eq!(parser.buffered(), 0);
        output
    }

    #[test]
    fn random_valid_frames_in_random_pieces_arrive_whole_and_in_order() {
        let mut random = Random(0x0ddb_a115_eed1_e550);
        for _ in 0..500 {
            let max = 1 + random.below(60);
            let mut input = Vec::new();
            let mut expected = Vec::new();
            let count = 1 + random.below(10) as u32;
            for txnr in 1..=count {
                let (bytes, frame) = random.frame(txnr, max);
                input.extend_from_slice(&bytes);
                expected.push(frame);
            }
            let output = parse_in_pieces(&mut random, max, &input);
            assert_eq!(output.frames, expected, "max {max}");
            assert_eq!(output.error, None);
            let oversize = expected.iter().filter(|frame| frame.truncated).count();
            assert_eq!(output.oversize_frames, oversize as u64);
        }
    }

    #[test]
    fn random_input_in_random_pieces_is_fully_accounted_for() {
        let mut random = Random(0x5eed_1234_abcd_ef01);
        for _ in 0..3000 {
            // Garbage, or valid frames with garbage somewhere among them.
            let mut input = Vec::new();
            let count = random.below(4) as u32;
            for txnr in 1..=count {
                input.extend_from_slice(&random.frame(txnr, 30).0);
            }
            let garbage: Vec<u8> = (0..random.below(80)).map(|_| random.byte()).collect();
            let tail = input.split_off(random.below(input.len() + 1));
            input.extend(garbage);
            input.extend(tail);
            let max = 1 + random.below(40);
            let output = parse_in_pieces(&mut random, max, &input);
            let data: usize = output.frames.iter().map(|frame| frame.data.len()).sum();
            let accounted = data as u64 + output.framing_bytes + output.discarded_bytes;
            assert_eq!(accounted, input.len() as u64, "max {max}, input {input:?}");
            for frame in &output.frames {
                assert!(frame.data.len() <= max, "{frame:?}");
                assert!(frame.txnr <= MAX_TXNR, "{frame:?}");
            }
        }
    }
}
