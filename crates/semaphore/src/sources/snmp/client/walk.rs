//! The bookkeeping of a walk of several table columns at once: which columns are still open, what to ask
//! next in each (its last OID), and where each varbind of an answer goes. GETBULK answers row by row, one
//! varbind per column asked in each row (RFC 3416 §4.2.3), so the varbind at `position` belongs to the
//! column asked at `position % width`. A column ends at endOfMibView or at the first OID outside it; an OID
//! not greater than the column's last one is a loop, and a column may not grow past `max_rows`. Varbinds are
//! moved from the answer into the result, never copied.

use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::wire::{Oid, Value, VarBind};

pub(super) struct Walk<'a> {
    columns: &'a [Oid],
    rows: Vec<Vec<VarBind>>,
    ended: Vec<bool>,
    /// The columns the last request asked for, in its order.
    asked: Vec<usize>,
    max_rows: usize,
}

impl<'a> Walk<'a> {
    pub(super) fn new(columns: &'a [Oid], max_rows: usize) -> Self {
        Self {
            columns,
            rows: vec![Vec::new(); columns.len()],
            ended: vec![false; columns.len()],
            asked: Vec::with_capacity(columns.len()),
            max_rows,
        }
    }

    /// The OIDs to ask next, one per open column; `None` once every column ended.
    pub(super) fn next_request(&mut self) -> Option<Vec<Oid>> {
        self.asked.clear();
        let open = (0..self.columns.len()).filter(|column| !self.ended[*column]);
        self.asked.extend(open);
        if self.asked.is_empty() {
            return None;
        }
        Some(
            self.asked
                .iter()
                .map(|column| self.last(*column).clone())
                .collect(),
        )
    }

    /// Files an answer's varbinds under the columns asked.
    pub(super) fn take(&mut self, varbinds: Vec<VarBind>) -> Result<(), PollErrorKind> {
        let width = self.asked.len();
        if varbinds.is_empty() || width == 0 {
            // Nothing after any of them: an agent that answers so has no more.
            for column in &self.asked {
                self.ended[*column] = true;
            }
            return Ok(());
        }
        for (position, varbind) in varbinds.into_iter().enumerate() {
            let column = self.asked[position % width];
            if !self.ended[column] {
                self.add(column, varbind)?;
            }
        }
        Ok(())
    }

    /// Ends the column asked at `error_index` (1 for the first): SNMPv1's noSuchName after a column's last
    /// row, where SNMPv2 has endOfMibView. `false` when no column was asked there.
    pub(super) fn end_asked(&mut self, error_index: i32) -> bool {
        let asked = usize::try_from(error_index)
            .ok()
            .and_then(|index| index.checked_sub(1));
        let Some(&column) = asked.and_then(|index| self.asked.get(index)) else {
            return false;
        };
        self.ended[column] = true;
        true
    }

    /// The rows of each column, index-aligned with the columns walked.
    pub(super) fn finish(self) -> Vec<Vec<VarBind>> {
        self.rows
    }

    /// The column's last OID: its last row's, or its own before any row.
    fn last(&self, column: usize) -> &Oid {
        let rows = &self.rows[column];
        rows.last().map_or(&self.columns[column], |row| &row.oid)
    }

    fn add(&mut self, column: usize, varbind: VarBind) -> Result<(), PollErrorKind> {
        let base = &self.columns[column];
        if matches!(varbind.value, Value::EndOfMibView) || !varbind.oid.starts_with(base) {
            self.ended[column] = true;
            return Ok(());
        }
        let rows = &mut self.rows[column];
        let last = rows.last().map_or(base, |row| &row.oid);
        if varbind.oid <= *last {
            let asked = last.clone();
            return Err(PollErrorKind::NotIncreasing {
                asked,
                got: varbind.oid,
            });
        }
        if rows.len() >= self.max_rows {
            let max = self.max_rows;
            return Err(PollErrorKind::TooManyRows {
                column: base.clone(),
                max,
            });
        }
        rows.push(varbind);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().expect("an OID")
    }

    fn row(text: &str, value: i32) -> VarBind {
        VarBind::new(oid(text), Value::Integer(value))
    }

    #[test]
    fn answers_are_filed_row_by_row_and_columns_end_apart() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7"), oid("1.3.6.1.2.1.2.2.1.8")];
        let mut walk = Walk::new(&columns, 10);
        assert_eq!(walk.next_request(), Some(columns.to_vec()));
        let answer = vec![
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.8.1", 2),
            row("1.3.6.1.2.1.2.2.1.7.2", 1),
            row("1.3.6.1.2.1.2.2.1.9.1", 0),
        ];
        assert!(walk.take(answer).is_ok());
        assert_eq!(walk.next_request(), Some(vec![oid("1.3.6.1.2.1.2.2.1.7.2")]));
        let end = VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.2"), Value::EndOfMibView);
        assert!(walk.take(vec![end]).is_ok());
        assert_eq!(walk.next_request(), None);
        let rows = walk.finish();
        assert_eq!(rows[0].len(), 2);
        assert_eq!(rows[1], [row("1.3.6.1.2.1.2.2.1.8.1", 2)]);
    }

    #[test]
    fn a_repeated_oid_is_a_loop_and_rows_are_bounded() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7")];
        let mut walk = Walk::new(&columns, 2);
        walk.next_request();
        let looped = walk.take(vec![
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
        ]);
        assert_eq!(looped.map_err(|kind| kind.label()), Err("not_increasing"));
        let mut walk = Walk::new(&columns, 2);
        walk.next_request();
        let rows = [
            "1.3.6.1.2.1.2.2.1.7.1",
            "1.3.6.1.2.1.2.2.1.7.2",
            "1.3.6.1.2.1.2.2.1.7.3",
        ];
        let long = walk.take(rows.iter().map(|text| row(text, 1)).collect());
        assert_eq!(long.map_err(|kind| kind.label()), Err("too_many_rows"));
    }

    #[test]
    fn snmpv1_ends_the_column_its_error_index_names() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7"), oid("1.3.6.1.2.1.2.2.1.8")];
        let mut walk = Walk::new(&columns, 10);
        walk.next_request();
        assert!(!walk.end_asked(0) && !walk.end_asked(3));
        assert!(walk.end_asked(2));
        assert_eq!(walk.next_request(), Some(vec![columns[0].clone()]));
    }
}
