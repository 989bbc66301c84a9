//! Cutting a byte stream into frames: newline-delimited, RFC 6587 octet counting, or detected per connection.
//!
//! Framers are pure (bytes in, frames out, no I/O), so every edge is unit-tested without a socket. They never
//! fail and never panic: input that cannot be framed is counted in the [`FramerOutput`] and skipped up to a
//! point where the stream makes sense again. Every input byte ends up in exactly one place: a frame, a
//! delimiter (line ends, length prefixes), the discarded count, or the framer's buffer until more arrives;
//! after [`Framer::finish`] the buffer is empty.
//!
//! Memory per connection is bounded by the frame limit: a frame longer than `max_frame_bytes` is delivered
//! cut to the limit and flagged, the rest of it is dropped, and framing resumes after it (at the next line
//! end, or after the announced length).

/// The longest octet-counting length prefix read: ten digits is already 9 GB, far beyond any frame.
const MAX_LENGTH_DIGITS: usize = 10;

/// Cuts one connection's bytes into frames. One framer per connection: it keeps the partial frame between
/// reads.
pub trait Framer: Send {
    /// Takes the next bytes read; complete frames, and whatever was cut or dropped, go to `output`.
    fn push(&mut self, bytes: &[u8], output: &mut FramerOutput);

    /// The stream ended: what is buffered becomes a last frame (or a counted framing error) and the framer
    /// is empty again.
    fn finish(&mut self, output: &mut FramerOutput);

    /// Bytes held while waiting for the rest of a frame.
    fn buffered(&self) -> usize;
}

/// One frame's bytes, without its delimiter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub bytes: Vec<u8>,
    /// Cut to the frame limit (or, in octet counting, cut short by the end of the connection).
    pub truncated: bool,
}

/// What a framer produced from some input.
#[derive(Debug, Default)]
pub struct FramerOutput {
    pub frames: Vec<RawFrame>,
    pub oversize_frames: u64,
    pub framing_errors: u64,
    /// Input dropped: beyond the limit of an oversize frame, or skipped after a framing error.
    pub discarded_bytes: u64,
    /// Line ends and length prefixes.
    pub delimiter_bytes: u64,
}

/// Which framer a stream listener uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// Per connection, from its first bytes: a digit starting a valid length prefix means octet counting,
    /// anything else newlines. Syslog senders use either, and never switch within a connection.
    #[default]
    Auto,
    /// One frame per line (LF, with an optional CR before it); empty lines are skipped.
    Newline,
    /// RFC 6587 octet counting: `LENGTH SP MESSAGE`.
    OctetCounting,
}

impl Framing {
    /// A new framer; a zero limit is taken as 1 so the framer always makes progress.
    pub fn framer(self, max_frame_bytes: usize) -> Box<dyn Framer> {
        let max_frame_bytes = max_frame_bytes.max(1);
        match self {
            Framing::Auto => Box::new(AutoFramer::new(max_frame_bytes)),
            Framing::Newline => Box::new(NewlineFramer::new(max_frame_bytes)),
            Framing::OctetCounting => Box::new(OctetCountingFramer::new(max_frame_bytes)),
        }
    }
}

impl FramerOutput {
    /// Adds a frame, cutting it to `max` bytes (flagged, counted, the rest discarded) when longer.
    pub fn push_limited(&mut self, bytes: &[u8], max: usize) {
        if bytes.len() > max {
            self.push_cut(bytes, max);
        } else {
            self.frames.push(RawFrame {
                bytes: bytes.to_vec(),
                truncated: false,
            });
        }
    }

    /// Adds the first `max` bytes of an oversize frame; only the bytes beyond `max` that are in `bytes` are
    /// counted as discarded here (a stream framer discards the rest as it arrives).
    fn push_cut(&mut self, bytes: &[u8], max: usize) {
        let kept = bytes.len().min(max);
        self.frames.push(RawFrame {
            bytes: bytes[..kept].to_vec(),
            truncated: true,
        });
        self.oversize_frames += 1;
        self.discarded_bytes += (bytes.len() - kept) as u64;
    }
}

/// Lines: LF ends a frame, a CR before it is dropped, empty lines are skipped.
#[derive(Debug)]
pub struct NewlineFramer {
    max: usize,
    buffer: Vec<u8>,
    /// Dropping the rest of an oversize line, up to its LF.
    skipping: bool,
}

impl NewlineFramer {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max: max_frame_bytes.max(1),
            buffer: Vec::new(),
            skipping: false,
        }
    }

    /// Handles the start of `input`; returns how many bytes it used, or `None` when it needs more.
    fn step(&mut self, input: &[u8], output: &mut FramerOutput) -> Option<usize> {
        if input.is_empty() {
            return None;
        }
        if self.skipping {
            return Some(skip_line(input, &mut self.skipping, output));
        }
        // A line of `max` bytes plus CR LF is still whole: look that far for its end. Saturating: the limit
        // comes from the config and may be huge.
        let reach = self.max.saturating_add(2);
        let window = &input[..input.len().min(reach)];
        match window.iter().position(|byte| *byte == b'\n') {
            Some(end) => {
                output.delimiter_bytes += 1;
                self.emit_line(&input[..end], output);
                Some(end + 1)
            }
            None if input.len() >= reach => {
                output.push_cut(&input[..self.max], self.max);
                self.skipping = true;
                Some(self.max)
            }
            None => None,
        }
    }

    fn emit_line(&self, line: &[u8], output: &mut FramerOutput) {
        let line = match line.strip_suffix(b"\r") {
            Some(stripped) => {
                output.delimiter_bytes += 1;
                stripped
            }
            None => line,
        };
        if !line.is_empty() {
            output.push_limited(line, self.max);
        }
    }
}

impl Framer for NewlineFramer {
    fn push(&mut self, bytes: &[u8], output: &mut FramerOutput) {
        self.buffer.extend_from_slice(bytes);
        let buffer = std::mem::take(&mut self.buffer);
        let mut position = 0;
        while let Some(used) = self.step(&buffer[position..], output) {
            position += used;
        }
        self.buffer = buffer;
        // One move per push rather than one per frame.
        self.buffer.drain(..position);
    }

    fn finish(&mut self, output: &mut FramerOutput) {
        // A sender may close without a last LF: what it sent is still a message.
        let buffer = std::mem::take(&mut self.buffer);
        if !self.skipping {
            self.emit_line(&buffer, output);
        }
        self.skipping = false;
    }

    fn buffered(&self) -> usize {
        self.buffer.len()
    }
}

/// Drops `input` up to and including the next LF (clearing `skipping` there); returns the bytes used.
fn skip_line(input: &[u8], skipping: &mut bool, output: &mut FramerOutput) -> usize {
    match input.iter().position(|byte| *byte == b'\n') {
        Some(end) => {
            output.discarded_bytes += end as u64;
            output.delimiter_bytes += 1;
            *skipping = false;
            end + 1
        }
        None => {
            output.discarded_bytes += input.len() as u64;
            input.len()
        }
    }
}

/// What the start of an octet-counted stream says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    /// Digits so far, but no space yet.
    Incomplete,
    /// `length` bytes of message follow the `header_bytes` of prefix (digits and the space).
    Length { length: u64, header_bytes: usize },
    /// Not `NONZERO-DIGIT *DIGIT SP`.
    Invalid,
}

fn parse_header(input: &[u8]) -> Header {
    let mut length: u64 = 0;
    for (index, byte) in input.iter().copied().enumerate() {
        match byte {
            b' ' if index > 0 => {
                return Header::Length {
                    length,
                    header_bytes: index + 1,
                };
            }
            b'0' if index == 0 => return Header::Invalid,
            b'0'..=b'9' if index < MAX_LENGTH_DIGITS => {
                // Cannot overflow: at most ten digits.
                length = length * 10 + u64::from(byte - b'0');
            }
            _ => return Header::Invalid,
        }
    }
    Header::Incomplete
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OctetState {
    Header,
    /// A header announced `length` bytes; waiting until they (or the frame limit) have arrived.
    Body {
        length: u64,
    },
    /// Dropping the rest of an oversize frame.
    SkipBytes {
        remaining: u64,
    },
    /// After a bad length prefix: dropping input up to the next LF, the likeliest message boundary.
    SkipLine,
}

/// RFC 6587 octet counting. A trailing LF inside the counted bytes (rsyslog and others count it) is dropped,
/// and LFs between frames are skipped, so both kinds of sender frame cleanly.
#[derive(Debug)]
pub struct OctetCountingFramer {
    max: usize,
    buffer: Vec<u8>,
    state: OctetState,
}

impl OctetCountingFramer {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max: max_frame_bytes.max(1),
            buffer: Vec::new(),
            state: OctetState::Header,
        }
    }

    /// Handles the start of `input`; returns how many bytes it used (at least one), or `None` when it needs
    /// more.
    fn step(&mut self, input: &[u8], output: &mut FramerOutput) -> Option<usize> {
        if input.is_empty() {
            return None;
        }
        match self.state {
            OctetState::Header => self.header(input, output),
            OctetState::Body { length } => self.body(length, input, output),
            OctetState::SkipBytes { remaining } => {
                let skipped = remaining.min(input.len() as u64);
                output.discarded_bytes += skipped;
                self.state = match remaining - skipped {
                    0 => OctetState::Header,
                    remaining => OctetState::SkipBytes { remaining },
                };
                // `skipped` is at most `input.len()`, so it fits.
                Some(skipped as usize)
            }
            OctetState::SkipLine => {
                let mut skipping = true;
                let used = skip_line(input, &mut skipping, output);
                if !skipping {
                    self.state = OctetState::Header;
                }
                Some(used)
            }
        }
    }

    fn header(&mut self, input: &[u8], output: &mut FramerOutput) -> Option<usize> {
        if matches!(input[0], b'\n' | b'\r') {
            output.delimiter_bytes += 1;
            return Some(1);
        }
        match parse_header(input) {
            Header::Incomplete => None,
            Header::Length { length, header_bytes } => {
                output.delimiter_bytes += header_bytes as u64;
                self.state = OctetState::Body { length };
                Some(header_bytes)
            }
            Header::Invalid => {
                output.framing_errors += 1;
                let mut skipping = true;
                let used = skip_line(input, &mut skipping, output);
                if skipping {
                    self.state = OctetState::SkipLine;
                }
                Some(used)
            }
        }
    }

    fn body(&mut self, length: u64, input: &[u8], output: &mut FramerOutput) -> Option<usize> {
        let max = self.max as u64;
        // At most `max`, so it fits in usize.
        let wanted = length.min(max) as usize;
        if input.len() < wanted {
            return None;
        }
        if length > max {
            output.push_cut(&input[..wanted], self.max);
            self.state = OctetState::SkipBytes {
                remaining: length - max,
            };
        } else {
            let message = strip_line_end(&input[..wanted], output);
            if !message.is_empty() {
                output.push_limited(message, self.max);
            }
            self.state = OctetState::Header;
        }
        Some(wanted)
    }
}

/// The message of a datagram that carries one RFC 6587 octet-counted frame (`LENGTH SP <PRI>…`): syslog-ng's
/// `loggen --syslog-proto` sends so over UDP, though RFC 5426 has no prefix. Only when the length is exactly
/// what follows (with or without a trailing LF), and a priority starts it; any other datagram is its own
/// message.
pub fn octet_counted_datagram(datagram: &[u8]) -> Option<&[u8]> {
    let Header::Length { length, header_bytes } = parse_header(datagram) else {
        return None;
    };
    let body = &datagram[header_bytes..];
    let length = usize::try_from(length).ok()?;
    let exact = body.len() == length || (body.len() == length + 1 && body.ends_with(b"\n"));
    (exact && body.starts_with(b"<")).then(|| &body[..length])
}

/// Drops one trailing LF, and a CR before it, counting them as delimiters.
fn strip_line_end<'a>(message: &'a [u8], output: &mut FramerOutput) -> &'a [u8] {
    let Some(message) = message.strip_suffix(b"\n") else {
        return message;
    };
    output.delimiter_bytes += 1;
    match message.strip_suffix(b"\r") {
        Some(message) => {
            output.delimiter_bytes += 1;
            message
        }
        None => message,
    }
}

impl Framer for OctetCountingFramer {
    fn push(&mut self, bytes: &[u8], output: &mut FramerOutput) {
        self.buffer.extend_from_slice(bytes);
        let buffer = std::mem::take(&mut self.buffer);
        let mut position = 0;
        while let Some(used) = self.step(&buffer[position..], output) {
            position += used;
        }
        self.buffer = buffer;
        self.buffer.drain(..position);
    }

    fn finish(&mut self, output: &mut FramerOutput) {
        let buffer = std::mem::take(&mut self.buffer);
        match self.state {
            OctetState::Body { .. } => {
                // The connection ended inside a frame: keep what arrived, flagged, and count the error.
                output.framing_errors += 1;
                if !buffer.is_empty() {
                    output.frames.push(RawFrame {
                        bytes: buffer,
                        truncated: true,
                    });
                }
            }
            OctetState::Header if !buffer.is_empty() => {
                // Digits of a length prefix, never completed.
                output.framing_errors += 1;
                output.discarded_bytes += buffer.len() as u64;
            }
            // Nothing is buffered while skipping.
            OctetState::Header | OctetState::SkipBytes { .. } | OctetState::SkipLine => {}
        }
        self.state = OctetState::Header;
    }

    fn buffered(&self) -> usize {
        self.buffer.len()
    }
}

/// Picks newline or octet counting from a connection's first bytes, then hands everything to that framer.
pub struct AutoFramer {
    max: usize,
    /// The first bytes, until they decide (at most a length prefix's worth).
    pending: Vec<u8>,
    decided: Option<Box<dyn Framer>>,
}

impl std::fmt::Debug for AutoFramer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AutoFramer")
            .field("pending", &self.pending.len())
            .field("decided", &self.decided.is_some())
            .finish()
    }
}

impl AutoFramer {
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max: max_frame_bytes.max(1),
            pending: Vec::new(),
            decided: None,
        }
    }
}

/// Which framing a connection's first bytes call for, or `None` until they say.
fn detect(start: &[u8]) -> Option<Framing> {
    let first = start.first()?;
    if !first.is_ascii_digit() {
        return Some(Framing::Newline);
    }
    match parse_header(start) {
        Header::Incomplete => None,
        Header::Length { .. } => Some(Framing::OctetCounting),
        // A line that merely starts with a digit (a message without PRI starting with a date): newlines,
        // so the message is kept rather than dropped as a bad length prefix.
        Header::Invalid => Some(Framing::Newline),
    }
}

impl Framer for AutoFramer {
    fn push(&mut self, bytes: &[u8], output: &mut FramerOutput) {
        if let Some(framer) = &mut self.decided {
            framer.push(bytes, output);
            return;
        }
        self.pending.extend_from_slice(bytes);
        if let Some(framing) = detect(&self.pending) {
            let mut framer = framing.framer(self.max);
            framer.push(&std::mem::take(&mut self.pending), output);
            self.decided = Some(framer);
        }
    }

    fn finish(&mut self, output: &mut FramerOutput) {
        match &mut self.decided {
            Some(framer) => framer.finish(output),
            None if !self.pending.is_empty() => {
                // Only digits arrived: a short line such as "42" rather than half a length prefix.
                let mut framer = NewlineFramer::new(self.max);
                framer.push(&std::mem::take(&mut self.pending), output);
                framer.finish(output);
            }
            None => {}
        }
        // The next connection (if the framer is reused) decides afresh.
        self.decided = None;
    }

    fn buffered(&self) -> usize {
        match &self.decided {
            Some(framer) => framer.buffered(),
            None => self.pending.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` then finishes; returns the frames as strings (truncated ones marked `~`) and the
    /// output.
    fn frame(framing: Framing, max: usize, chunks: &[&[u8]]) -> (Vec<String>, FramerOutput) {
        let mut framer = framing.framer(max);
        let mut output = FramerOutput::default();
        for chunk in chunks {
            framer.push(chunk, &mut output);
        }
        framer.finish(&mut output);
        assert_eq!(framer.buffered(), 0);
        let frames = output
            .frames
            .iter()
            .map(|frame| {
                let text = String::from_utf8_lossy(&frame.bytes).into_owned();
                if frame.truncated { format!("{text}~") } else { text }
            })
            .collect();
        (frames, output)
    }

    #[test]
    fn an_octet_counted_datagram_gives_its_message_and_nothing_else_is_touched() {
        let message = b"<38>1 - host app - - - hi";
        let counted = format!("{} ", message.len()).into_bytes();
        let with = |suffix: &[u8]| [counted.as_slice(), message, suffix].concat();
        assert_eq!(octet_counted_datagram(&with(b"")), Some(&message[..]));
        assert_eq!(octet_counted_datagram(&with(b"\n")), Some(&message[..]));
        // A length that does not match, no priority after it, no prefix at all: the datagram stands.
        assert_eq!(octet_counted_datagram(&with(b"x")), None);
        assert_eq!(octet_counted_datagram(b"3 abc"), None);
        assert_eq!(octet_counted_datagram(message), None);
        assert_eq!(
            octet_counted_datagram(b"58: *Mar  1 18:46:11 UTC: %SYS-5-CONFIG_I"),
            None
        );
        assert_eq!(octet_counted_datagram(b""), None);
    }

    #[test]
    fn newline_frames() {
        let (frames, output) = frame(
            Framing::Newline,
            100,
            &[b"<13>one\n<13>tw", b"o\r\n\n\n<13>three"],
        );
        assert_eq!(frames, ["<13>one", "<13>two", "<13>three"]);
        assert_eq!(output.delimiter_bytes, 5);
        assert_eq!(
            output.framing_errors + output.oversize_frames + output.discarded_bytes,
            0
        );
    }

    #[test]
    fn newline_waits_for_the_line_end() {
        let mut framer = NewlineFramer::new(100);
        let mut output = FramerOutput::default();
        framer.push(b"partial", &mut output);
        assert!(output.frames.is_empty());
        assert_eq!(framer.buffered(), 7);
        framer.push(b" line\n", &mut output);
        assert_eq!(output.frames[0].bytes, b"partial line");
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn newline_oversize_is_cut_and_resynchronizes() {
        // A line of exactly the limit, with or without CR, is whole; a longer one is cut, the rest dropped.
        let (frames, output) = frame(
            Framing::Newline,
            4,
            &[b"abcd\nabcd\r\nabcdef", b"ghij\nxy\n", b"0123456789\n"],
        );
        assert_eq!(frames, ["abcd", "abcd", "abcd~", "xy", "0123~"]);
        assert_eq!(output.oversize_frames, 2);
        assert_eq!(output.discarded_bytes, 6 + 6);
    }

    #[test]
    fn octet_counting_frames_split_across_reads() {
        let (frames, output) = frame(
            Framing::OctetCounting,
            100,
            &[b"5 he", b"llo1", b"1 hello", b" world", b"3", b" ", b"abc"],
        );
        assert_eq!(frames, ["hello", "hello world", "abc"]);
        assert_eq!(output.delimiter_bytes, 2 + 3 + 2);
        assert_eq!(output.framing_errors, 0);
    }

    #[test]
    fn octet_counting_drops_a_counted_trailing_line_end() {
        // rsyslog counts the LF it appends; other senders put a LF between frames, uncounted.
        let (frames, output) = frame(
            Framing::OctetCounting,
            100,
            &[b"6 hello\n7 world\r\n5 again\n\n3 end"],
        );
        assert_eq!(frames, ["hello", "world", "again", "end"]);
        assert_eq!(output.framing_errors, 0);
    }

    #[test]
    fn octet_counting_oversize_is_cut_and_resynchronizes() {
        let (frames, output) = frame(Framing::OctetCounting, 4, &[b"10 abcdef", b"ghij2 xy4 wxyz"]);
        assert_eq!(frames, ["abcd~", "xy", "wxyz"]);
        assert_eq!(output.oversize_frames, 1);
        assert_eq!(output.discarded_bytes, 6);
    }

    #[test]
    fn garbage_after_a_bad_length_prefix_is_a_counted_error() {
        let (frames, output) = frame(
            Framing::OctetCounting,
            100,
            &[
                b"12x garbage\n5 hello",
                b"0 zero\n",
                b"abc",
                b"def\n",
                b"99999999999 x\n3 end",
            ],
        );
        // Eleven digits are too many to be a length.
        assert_eq!(frames, ["hello", "end"]);
        assert_eq!(output.framing_errors, 4);
    }

    #[test]
    fn octet_counting_connection_ending_inside_a_frame() {
        let (frames, output) = frame(Framing::OctetCounting, 100, &[b"5 hello20 cut sh"]);
        assert_eq!(frames, ["hello", "cut sh~"]);
        assert_eq!(output.framing_errors, 1);
        let (frames, output) = frame(Framing::OctetCounting, 100, &[b"5 hello12"]);
        assert_eq!(frames, ["hello"]);
        assert_eq!((output.framing_errors, output.discarded_bytes), (1, 2));
    }

    #[test]
    fn auto_detects_per_connection() {
        let (frames, _) = frame(Framing::Auto, 100, &[b"1", b"0 <13>hello\n", b"3 abc"]);
        assert_eq!(frames, ["<13>hello", "abc"]);
        let (frames, _) = frame(Framing::Auto, 100, &[b"<13>hello\n11 not counted\n"]);
        assert_eq!(frames, ["<13>hello", "11 not counted"]);
        // Starts with a digit but is no length prefix: a line.
        let (frames, output) = frame(Framing::Auto, 100, &[b"2024-05-01 host message\n"]);
        assert_eq!(frames, ["2024-05-01 host message"]);
        assert_eq!(output.framing_errors, 0);
        let (frames, _) = frame(Framing::Auto, 100, &[b"42"]);
        assert_eq!(frames, ["42"]);
    }

    /// xorshift64: deterministic, no dependency.
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

        /// Mostly the bytes framing turns on, so every path is taken; sometimes any byte.
        fn byte(&mut self) -> u8 {
            const INTERESTING: &[u8] = b"0123456789  \n\n\r<>ab";
            if self.below(8) == 0 {
                self.next_u64() as u8
            } else {
                INTERESTING[self.below(INTERESTING.len())]
            }
        }
    }

    #[test]
    fn random_input_in_random_chunks_is_fully_accounted_for() {
        let mut random = Random(0x5eed_1234_abcd_ef01);
        for _ in 0..200_000 {
            let input: Vec<u8> = (0..random.below(300)).map(|_| random.byte()).collect();
            let max = 1 + random.below(40);
            for framing in [Framing::Newline, Framing::OctetCounting, Framing::Auto] {
                let mut framer = framing.framer(max);
                let mut output = FramerOutput::default();
                let mut rest = input.as_slice();
                while !rest.is_empty() {
                    let (chunk, remaining) = rest.split_at(1 + random.below(20).min(rest.len() - 1));
                    framer.push(chunk, &mut output);
                    assert!(
                        framer.buffered() <= max + MAX_LENGTH_DIGITS + 2,
                        "{framing:?} buffers too much"
                    );
                    rest = remaining;
                }
                framer.finish(&mut output);
                assert_eq!(framer.buffered(), 0);
                let framed: usize = output.frames.iter().map(|frame| frame.bytes.len()).sum();
                let accounted = framed as u64 + output.delimiter_bytes + output.discarded_bytes;
                assert_eq!(
                    accounted,
                    input.len() as u64,
                    "{framing:?}, max {max}, input {input:?}"
                );
                for frame in &output.frames {
                    assert!(
                        !frame.bytes.is_empty() && frame.bytes.len() <= max,
                        "{framing:?}: {frame:?}"
                    );
                }
            }
        }
    }
}
