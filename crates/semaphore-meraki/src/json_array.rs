//! Splits the text of a JSON array into the text of its elements as the pieces of a body arrive, so a large
//! answer is parsed one element at a time and never held whole.
//!
//! Only the structure is checked here (brackets, braces, strings and escapes, commas); each element's own text
//! is left to serde, which checks the rest.

/// Where the splitter is in the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Before the opening `[`.
    Start,
    /// After `[` or a comma: an element (or, right after `[`, the closing `]`) comes next.
    BeforeElement { first: bool },
    /// Inside an element, `depth` brackets or braces deep (0 for a bare scalar).
    InElement {
        depth: u32,
        in_string: bool,
        escaped: bool,
    },
    /// After an element: a comma or the closing `]`.
    AfterElement,
    /// After the closing `]`: only whitespace may follow.
    End,
}

/// What is wrong with the text, and at which byte of the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct SplitError {
    pub what: &'static str,
    pub at: usize,
}

#[derive(Debug)]
pub struct ArraySplitter {
    place: Place,
    /// The text of the element being read, from its first byte.
    element: Vec<u8>,
    /// Bytes of the body seen so far, for errors.
    seen: usize,
}

impl Default for ArraySplitter {
    fn default() -> Self {
        Self {
            place: Place::Start,
            element: Vec::new(),
            seen: 0,
        }
    }
}

impl ArraySplitter {
    /// Reads the next piece of the body, calling `each` with the text of every element it completes.
    pub fn feed(&mut self, piece: &[u8], mut each: impl FnMut(&[u8])) -> Result<(), SplitError> {
        for &byte in piece {
            let at = self.seen;
            self.seen += 1;
            if self.step(byte, at)? {
                each(&self.element);
                self.element.clear();
            }
        }
        Ok(())
    }

    /// Checks that the body ended with the array closed.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.place {
            Place::End => Ok(()),
            Place::Start => Err(self.error("the answer is empty, not an array")),
            _ => Err(self.error("the answer ends before its array is closed")),
        }
    }

    /// One byte: `true` when it completed an element (then in `self.element`).
    fn step(&mut self, byte: u8, at: usize) -> Result<bool, SplitError> {
        let error = |what| Err(SplitError { what, at });
        let blank = byte.is_ascii_whitespace();
        self.place = match self.place {
            Place::Start if blank => Place::Start,
            Place::Start if byte == b'[' => Place::BeforeElement { first: true },
            Place::Start => return error("the answer is not an array"),
            Place::BeforeElement { first } if blank => Place::BeforeElement { first },
            Place::BeforeElement { first: true } if byte == b']' => Place::End,
            Place::BeforeElement { .. } if matches!(byte, b']' | b',') => {
                return error("an element is missing");
            }
            Place::BeforeElement { .. } => {
                self.begin(byte);
                return Ok(false);
            }
            Place::InElement {
                depth,
                in_string,
                escaped,
            } => return self.inside(byte, depth, in_string, escaped, at),
            Place::AfterElement if blank => Place::AfterElement,
            Place::AfterElement if byte == b',' => Place::BeforeElement { first: false },
            Place::AfterElement if byte == b']' => Place::End,
            Place::AfterElement => return error("a comma or the end of the array is missing"),
            Place::End if blank => Place::End,
            Place::End => return error("text follows the end of the array"),
        };
        Ok(false)
    }

    /// The first byte of an element.
    fn begin(&mut self, byte: u8) {
        self.element.push(byte);
        self.place = Place::InElement {
            depth: u32::from(matches!(byte, b'{' | b'[')),
            in_string: byte == b'"',
            escaped: false,
        };
    }

    /// A byte inside an element; the byte that ends a bare scalar (a comma, `]` or a blank) ends it and is
    /// read again as what follows it.
    fn inside(
        &mut self,
        byte: u8,
        depth: u32,
        in_string: bool,
        escaped: bool,
        at: usize,
    ) -> Result<bool, SplitError> {
        if in_string {
            self.element.push(byte);
            let closes = byte == b'"' && !escaped;
            self.place = Place::InElement {
                depth,
                in_string: !closes,
                escaped: byte == b'\\' && !escaped,
            };
            // A string element ends with its closing quote.
            if closes && depth == 0 {
                self.place = Place::AfterElement;
                return Ok(true);
            }
            return Ok(false);
        }
        if depth == 0 && (byte == b',' || byte == b']' || byte.is_ascii_whitespace()) {
            // The end of a bare number or literal: the element is complete, the byte is the next place's.
            self.place = Place::AfterElement;
            let _ = self.step(byte, at)?;
            return Ok(true);
        }
        self.element.push(byte);
        let depth = match byte {
            b'{' | b'[' => depth + 1,
            b'}' | b']' if depth == 0 => {
                return Err(SplitError {
                    what: "a bracket closes nothing",
                    at,
                });
            }
            b'}' | b']' => depth - 1,
            _ => depth,
        };
        if depth == 0 && matches!(byte, b'}' | b']') {
            self.place = Place::AfterElement;
            return Ok(true);
        }
        self.place = Place::InElement {
            depth,
            in_string: byte == b'"',
            escaped: false,
        };
        Ok(false)
    }

    fn error(&self, what: &'static str) -> SplitError {
        SplitError { what, at: self.seen }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The elements of `text` fed `piece` bytes at a time.
    fn split(text: &str, piece: usize) -> Result<Vec<String>, SplitError> {
        let mut splitter = ArraySplitter::default();
        let mut elements = Vec::new();
        for chunk in text.as_bytes().chunks(piece.max(1)) {
            splitter.feed(chunk, |element| {
                elements.push(String::from_utf8(element.to_vec()).unwrap())
            })?;
        }
        splitter.finish()?;
        Ok(elements)
    }

    #[test]
    fn elements_are_the_same_whatever_the_pieces() {
        let text = r#" [ {"a":"x,]}\"{","b":[1,{"c":2}]} ,{"d":null}, [3], "s\\", 4.5e1 ,true] "#;
        let expected = [
            r#"{"a":"x,]}\"{","b":[1,{"c":2}]}"#,
            r#"{"d":null}"#,
            "[3]",
            r#""s\\""#,
            "4.5e1",
            "true",
        ];
        for piece in [1, 2, 3, 7, 1000] {
            assert_eq!(split(text, piece).unwrap(), expected, "pieces of {piece} bytes");
        }
        // Each element is the JSON serde reads whole.
        let whole: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        let parts: Vec<serde_json::Value> = split(text, 5)
            .unwrap()
            .iter()
            .map(|element| serde_json::from_str(element).unwrap())
            .collect();
        assert_eq!(parts, whole);
    }

    #[test]
    fn an_empty_array_has_no_elements() {
        assert!(split("[]", 1).unwrap().is_empty());
        assert!(split(" [ \n ] \n", 2).unwrap().is_empty());
    }

    #[test]
    fn what_is_not_an_array_is_named() {
        let what = |text: &str| split(text, 3).unwrap_err().what;
        assert_eq!(what(r#"{"errors":["x"]}"#), "the answer is not an array");
        assert_eq!(what(""), "the answer is empty, not an array");
        assert_eq!(what(r#"[{"a":1}"#), "the answer ends before its array is closed");
        assert_eq!(what(r#"[{"a":1},]"#), "an element is missing");
        assert_eq!(
            what(r#"[{"a":1} {"b":2}]"#),
            "a comma or the end of the array is missing"
        );
        assert_eq!(what(r#"[{"a":1}] x"#), "text follows the end of the array");
        assert_eq!(
            what(r#"[{"a":1}}]"#),
            "a comma or the end of the array is missing"
        );
        assert_eq!(
            split(r#"[1}]"#, 3).unwrap_err(),
            SplitError {
                what: "a bracket closes nothing",
                at: 2
            }
        );
    }
}
