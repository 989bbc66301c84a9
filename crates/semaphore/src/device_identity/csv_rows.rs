//! The CSV syntax of the device file, as RFC 4180, NetBox and spreadsheets write it: one row per line,
//! fields separated by commas; a field in double quotes may hold commas, line ends and quotes (written
//! twice, `""`). Whitespace around a field is dropped, blank lines and lines starting with `#` are skipped,
//! and a UTF-8 byte order mark (spreadsheets save one) is ignored. Pure: text in, rows with the line each
//! starts on out.
//!
//! Written here rather than with the `csv` crate so that every error names the line it is on (the crate
//! counts a row from the end of the one before, blank lines included) and says how to fix it.

/// One row of the file.
#[derive(Debug, PartialEq)]
pub struct Row {
    /// The line the row starts on, from 1.
    pub line: usize,
    pub fields: Vec<String>,
}

/// Something the syntax does not allow.
#[derive(Debug, PartialEq)]
pub struct SyntaxError {
    pub line: usize,
    /// The field of the row at fault, from 0.
    pub field: usize,
    pub reason: &'static str,
}

/// The rows of a text, up to the first syntax error, if any.
#[derive(Debug, PartialEq)]
pub struct Split {
    /// The rows before the error (so the header can still name the column at fault).
    pub rows: Vec<Row>,
    pub error: Option<SyntaxError>,
}

const TEXT_AFTER_QUOTE: &str = "text after the closing quote; put the whole field inside the quotes";
const QUOTE_INSIDE: &str =
    "a quote inside an unquoted field; quote the whole field and write each quote inside it twice (\"\")";
const UNCLOSED_QUOTE: &str =
    "a quoted field is not closed; end it with a quote (a quote inside it is written twice: \"\")";

/// Splits `text` into rows of fields.
pub fn split(text: &str) -> Split {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut splitter = Splitter::default();
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        // CRLF (Windows, Excel) reads as LF, inside quotes too.
        if character == '\r' && characters.peek() == Some(&'\n') {
            continue;
        }
        if splitter.in_quotes {
            if character == '"' && characters.peek() == Some(&'"') {
                characters.next();
                splitter.field.push('"');
            } else if character == '"' {
                splitter.in_quotes = false;
            } else {
                splitter.push_quoted(character);
            }
            continue;
        }
        let outcome = match character {
            ',' => {
                splitter.end_field();
                Ok(())
            }
            '\n' => {
                splitter.end_row();
                Ok(())
            }
            '"' => splitter.open_quote(),
            '#' if splitter.at_row_start() => {
                while characters.next_if(|next| *next != '\n').is_some() {}
                Ok(())
            }
            other => splitter.push(other),
        };
        if let Err(error) = outcome {
            return Split {
                rows: splitter.rows,
                error: Some(error),
            };
        }
    }
    splitter.finish()
}

/// The state of [`split`] between two characters.
struct Splitter {
    rows: Vec<Row>,
    fields: Vec<String>,
    field: String,
    /// The field began with a quote: it is kept as written, and only whitespace may follow its closing quote.
    quoted: bool,
    in_quotes: bool,
    /// The line being read.
    line: usize,
    /// The line the current row starts on.
    row_line: usize,
    /// The line the open quote is on, for a file that ends before it is closed.
    quote_line: usize,
}

impl Default for Splitter {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            fields: Vec::new(),
            field: String::new(),
            quoted: false,
            in_quotes: false,
            line: 1,
            row_line: 1,
            quote_line: 1,
        }
    }
}

impl Splitter {
    /// Nothing but whitespace read on this row yet.
    fn at_row_start(&self) -> bool {
        self.fields.is_empty() && !self.quoted && self.field.trim().is_empty()
    }

    fn error(&self, reason: &'static str) -> SyntaxError {
        SyntaxError {
            line: self.line,
            field: self.fields.len(),
            reason,
        }
    }

    fn push(&mut self, character: char) -> Result<(), SyntaxError> {
        if !self.quoted {
            self.field.push(character);
        } else if !character.is_whitespace() {
            return Err(self.error(TEXT_AFTER_QUOTE));
        }
        Ok(())
    }

    fn push_quoted(&mut self, character: char) {
        if character == '\n' {
            self.line += 1;
        }
        self.field.push(character);
    }

    fn open_quote(&mut self) -> Result<(), SyntaxError> {
        if self.quoted {
            return Err(self.error(TEXT_AFTER_QUOTE));
        }
        if !self.field.trim().is_empty() {
            return Err(self.error(QUOTE_INSIDE));
        }
        self.field.clear();
        self.quoted = true;
        self.in_quotes = true;
        self.quote_line = self.line;
        Ok(())
    }

    fn end_field(&mut self) {
        let field = std::mem::take(&mut self.field);
        let field = if self.quoted {
            field
        } else {
            field.trim().to_owned()
        };
        self.fields.push(field);
        self.quoted = false;
    }

    /// Ends the row at a line end; a blank (or comment) line is no row.
    fn end_row(&mut self) {
        if !self.at_row_start() {
            self.end_field();
            self.rows.push(Row {
                line: self.row_line,
                fields: std::mem::take(&mut self.fields),
            });
        }
        self.field.clear();
        self.line += 1;
        self.row_line = self.line;
    }

    /// The end of the text: the last row may lack its line end, but a quote must be closed.
    fn finish(mut self) -> Split {
        if self.in_quotes {
            let error = SyntaxError {
                line: self.quote_line,
                field: self.fields.len(),
                reason: UNCLOSED_QUOTE,
            };
            return Split {
                rows: self.rows,
                error: Some(error),
            };
        }
        self.end_row();
        Split {
            rows: self.rows,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows as (line, fields), for comparing with a literal.
    fn rows_of(split_text: &Split) -> Vec<(usize, Vec<&str>)> {
        split_text
            .rows
            .iter()
            .map(|row| (row.line, row.fields.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn plain_rows_with_their_lines() {
        let split_text = split("ip,hostname\n10.0.0.1, sw1 \n\n10.0.0.2,sw2");
        assert_eq!(split_text.error, None);
        let expected = [
            (1, vec!["ip", "hostname"]),
            (2, vec!["10.0.0.1", "sw1"]),
            (4, vec!["10.0.0.2", "sw2"]),
        ];
        assert_eq!(rows_of(&split_text), expected);
    }

    #[test]
    fn quotes_hold_commas_quotes_and_line_ends() {
        let text = "a,b\r\n1,\"dc,core\"\r\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n4, \"x\" \n";
        let split_text = split(text);
        assert_eq!(split_text.error, None);
        let expected = [
            (1, vec!["a", "b"]),
            (2, vec!["1", "dc,core"]),
            (3, vec!["2", "say \"hi\""]),
            (4, vec!["3", "two\nlines"]),
            (6, vec!["4", "x"]),
        ];
        assert_eq!(rows_of(&split_text), expected);
    }

    #[test]
    fn comments_blank_lines_and_a_byte_order_mark_are_skipped() {
        let split_text = split("\u{feff}ip\n# exported from NetBox\n   \n10.0.0.1\n");
        assert_eq!(split_text.error, None);
        assert_eq!(rows_of(&split_text), [(1, vec!["ip"]), (4, vec!["10.0.0.1"])]);
    }

    #[test]
    fn an_empty_last_field_and_an_empty_quoted_field_are_fields() {
        let split_text = split("a,b,c\n1,,\n\"\"\nlast,line,unended");
        assert_eq!(split_text.error, None);
        let expected = [
            (1, vec!["a", "b", "c"]),
            (2, vec!["1", "", ""]),
            (3, vec![""]),
            (4, vec!["last", "line", "unended"]),
        ];
        assert_eq!(rows_of(&split_text), expected);
    }

    fn error(line_number: usize, field_index: usize, reason: &'static str) -> Option<SyntaxError> {
        Some(SyntaxError {
            line: line_number,
            field: field_index,
            reason,
        })
    }

    #[test]
    fn syntax_errors_name_their_line_and_field() {
        let quote_inside = split("a,b\n1,sw\"1\n");
        // The rows before the error are kept, so the header can name the column.
        assert_eq!(rows_of(&quote_inside), [(1, vec!["a", "b"])]);
        assert_eq!(quote_inside.error, error(2, 1, QUOTE_INSIDE));
        let after_quote = split("a,b\n1,\"x\"y\n");
        assert_eq!(after_quote.error, error(2, 1, TEXT_AFTER_QUOTE));
        let unclosed = split("a,b\n1,2\n3,\"open\n4,5\n");
        assert_eq!(unclosed.error, error(3, 1, UNCLOSED_QUOTE));
    }
}
