//! The bookkeeping of a walk of several table columns at once: which columns are still open, what to ask
//! next in each (its last OID), and where each varbind of an answer goes. GETBULK answers row by row, one
//! varbind per column asked in each row (RFC 3416 §4.2.3), so the varbind at `position` belongs to the
//! column asked at `position % width`. A column ends at endOfMibView or at the first OID outside it.
//!
//! A column can also end early, its rows so far kept, with the [`ColumnEnd`] that says why: an OID not
//! greater than the column's last one (the agent loops), more than `max_rows` rows, or the walk's
//! `max_varbinds` reached (every column still open then ends). The caller decides what a cut column costs;
//! the walk itself goes on with the other columns. Varbinds are moved from the answer into the result, never
//! copied.

use tokio::time::Instant;

use crate::sources::snmp::client::error::PollErrorKind;
use crate::sources::snmp::wire::{Oid, Value, VarBind};

/// Why a column's walk ended before the agent said the column did; its rows so far are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnEnd {
    /// The agent answered `got` after `asked`, which is not a greater OID: it loops.
    NotIncreasing { asked: Oid, got: Oid },
    /// The column had `max` rows and the agent more.
    TooManyRows { max: usize },
    /// The walk kept `max` varbinds in all, its bound, with this column still open.
    WalkTooLong { max: usize },
}

impl ColumnEnd {
    /// The poll error this end is, for the column `column`, when its rows were needed whole.
    pub fn into_kind(self, column: &Oid) -> PollErrorKind {
        match self {
            ColumnEnd::NotIncreasing { asked, got } => PollErrorKind::NotIncreasing { asked, got },
            ColumnEnd::TooManyRows { max } => PollErrorKind::TooManyRows {
                column: column.clone(),
                max,
            },
            ColumnEnd::WalkTooLong { max } => PollErrorKind::WalkTooLong { max },
        }
    }
}

/// What a walk of several columns answered.
#[derive(Debug, Default, PartialEq)]
pub struct Walked {
    /// Each column's varbinds, in order, index-aligned with the columns walked.
    pub rows: Vec<Vec<VarBind>>,
    /// Why each column ended early, index-aligned; `None` for a column walked to its end.
    pub ends: Vec<Option<ColumnEnd>>,
    /// When the walk's first answer came (`None` when nothing was asked): when the agent read the values,
    /// near enough, whatever retries later requests of the walk needed.
    pub first_answer: Option<Instant>,
}

pub(super) struct Walk<'a> {
    columns: &'a [Oid],
    rows: Vec<Vec<VarBind>>,
    ended: Vec<bool>,
    ends: Vec<Option<ColumnEnd>>,
    /// The columns the last request asked for, in its order.
    asked: Vec<usize>,
    max_rows: usize,
    /// The most varbinds the walk keeps, all columns together: what bounds its memory.
    max_varbinds: usize,
    /// Varbinds kept so far.
    kept: usize,
}

impl<'a> Walk<'a> {
    pub(super) fn new(columns: &'a [Oid], max_rows: usize, max_varbinds: usize) -> Self {
        Self {
            columns,
            rows: vec![Vec::new(); columns.len()],
            ended: vec![false; columns.len()],
            ends: vec![None; columns.len()],
            asked: Vec::with_capacity(columns.len()),
            max_rows,
            max_varbinds,
            kept: 0,
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
    pub(super) fn take(&mut self, varbinds: Vec<VarBind>) {
        let width = self.asked.len();
        if varbinds.is_empty() || width == 0 {
            // Nothing after any of them: an agent that answers so has no more.
            for column in &self.asked {
                self.ended[*column] = true;
            }
            return;
        }
        for (position, varbind) in varbinds.into_iter().enumerate() {
            let column = self.asked[position % width];
            if !self.ended[column] {
                self.add(column, varbind);
            }
        }
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

    /// The rows of each column and why any ended early; `first_answer` is when the walk's first answer came.
    pub(super) fn finish(self, first_answer: Option<Instant>) -> Walked {
        Walked {
            rows: self.rows,
            ends: self.ends,
            first_answer,
        }
    }

    /// The column's last OID: its last row's, or its own before any row.
    fn last(&self, column: usize) -> &Oid {
        let rows = &self.rows[column];
        rows.last().map_or(&self.columns[column], |row| &row.oid)
    }

    fn add(&mut self, column: usize, varbind: VarBind) {
        let base = &self.columns[column];
        if matches!(varbind.value, Value::EndOfMibView) || !varbind.oid.starts_with(base) {
            self.ended[column] = true;
            return;
        }
        let rows = &self.rows[column];
        let last = rows.last().map_or(base, |row| &row.oid);
        if varbind.oid <= *last {
            let asked = last.clone();
            let got = varbind.oid;
            return self.cut(column, ColumnEnd::NotIncreasing { asked, got });
        }
        if rows.len() >= self.max_rows {
            let max = self.max_rows;
            return self.cut(column, ColumnEnd::TooManyRows { max });
        }
        if self.kept >= self.max_varbinds {
            let max = self.max_varbinds;
            return self.cut_open(&ColumnEnd::WalkTooLong { max });
        }
        self.kept += 1;
        self.rows[column].push(varbind);
    }

    /// Ends `column` early, for `end`.
    fn cut(&mut self, column: usize, end: ColumnEnd) {
        self.ended[column] = true;
        self.ends[column] = Some(end);
    }

    /// Ends every column still open, for `end`.
    fn cut_open(&mut self, end: &ColumnEnd) {
        for column in 0..self.columns.len() {
            if !self.ended[column] {
                self.cut(column, end.clone());
            }
        }
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
        let mut walk = Walk::new(&columns, 10, 100);
        assert_eq!(walk.next_request(), Some(columns.to_vec()));
        let answer = vec![
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.8.1", 2),
            row("1.3.6.1.2.1.2.2.1.7.2", 1),
            row("1.3.6.1.2.1.2.2.1.9.1", 0),
        ];
        walk.take(answer);
        assert_eq!(walk.next_request(), Some(vec![oid("1.3.6.1.2.1.2.2.1.7.2")]));
        let end = VarBind::new(oid("1.3.6.1.2.1.2.2.1.7.2"), Value::EndOfMibView);
        walk.take(vec![end]);
        assert_eq!(walk.next_request(), None);
        let walked = walk.finish(None);
        assert_eq!(walked.rows[0].len(), 2);
        assert_eq!(walked.rows[1], [row("1.3.6.1.2.1.2.2.1.8.1", 2)]);
        assert_eq!(walked.ends, [None::<ColumnEnd>, None]);
    }

    /// Issue 14 review: a loop or a long column ends that column, its rows so far kept, and the walk goes
    /// on with the others.
    #[test]
    fn a_loop_or_a_long_column_ends_only_that_column() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7"), oid("1.3.6.1.2.1.2.2.1.8")];
        let mut walk = Walk::new(&columns, 2, 100);
        walk.next_request();
        walk.take(vec![
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.8.1", 1),
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.8.2", 1),
        ]);
        assert_eq!(walk.next_request(), Some(vec![oid("1.3.6.1.2.1.2.2.1.8.2")]));
        walk.take(vec![row("1.3.6.1.2.1.2.2.1.8.3", 1)]);
        assert_eq!(walk.next_request(), None);
        let walked = walk.finish(None);
        assert_eq!(walked.rows[0], [row("1.3.6.1.2.1.2.2.1.7.1", 1)]);
        assert_eq!(walked.rows[1].len(), 2);
        let looped = ColumnEnd::NotIncreasing {
            asked: oid("1.3.6.1.2.1.2.2.1.7.1"),
            got: oid("1.3.6.1.2.1.2.2.1.7.1"),
        };
        assert_eq!(
            walked.ends,
            [Some(looped), Some(ColumnEnd::TooManyRows { max: 2 })]
        );
        let kind = ColumnEnd::TooManyRows { max: 2 }.into_kind(&columns[1]);
        assert_eq!(kind.label(), "too_many_rows");
        assert!(kind.to_string().contains("max_rows"), "{kind}");
    }

    /// Issue 14 review: the walk's varbinds are bounded in all, whatever each column's bound.
    #[test]
    fn the_walk_is_bounded_in_all() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7"), oid("1.3.6.1.2.1.2.2.1.8")];
        let mut walk = Walk::new(&columns, 10, 3);
        walk.next_request();
        walk.take(vec![
            row("1.3.6.1.2.1.2.2.1.7.1", 1),
            row("1.3.6.1.2.1.2.2.1.8.1", 1),
            row("1.3.6.1.2.1.2.2.1.7.2", 1),
            row("1.3.6.1.2.1.2.2.1.8.2", 1),
        ]);
        assert_eq!(walk.next_request(), None);
        let walked = walk.finish(None);
        assert_eq!(walked.rows.iter().map(Vec::len).sum::<usize>(), 3);
        let cut = Some(ColumnEnd::WalkTooLong { max: 3 });
        assert_eq!(walked.ends, [cut.clone(), cut]);
    }

    #[test]
    fn snmpv1_ends_the_column_its_error_index_names() {
        let columns = [oid("1.3.6.1.2.1.2.2.1.7"), oid("1.3.6.1.2.1.2.2.1.8")];
        let mut walk = Walk::new(&columns, 10, 100);
        walk.next_request();
        assert!(!walk.end_asked(0) && !walk.end_asked(3));
        assert!(walk.end_asked(2));
        assert_eq!(walk.next_request(), Some(vec![columns[0].clone()]));
    }
}
