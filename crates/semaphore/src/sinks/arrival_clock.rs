//! What the evaluators driven by arrival times share (log alerts, trap alerts, and, for restores, interface
//! alerts): a clock that only moves forward and settles every alert when it moves, and the rule for when a
//! restored alert may be forgotten.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::record::AlertEvent;

/// Moves `clock` on to `now` (never back), settles every alert at that time with `settle`, forgets the ones
/// `forgettable` says hold nothing, and returns the events in time order (the map's order is arbitrary).
pub fn advance<A, Settled>(
    clock: &mut Option<DateTime<Utc>>,
    alerts: &mut HashMap<String, A>,
    now: DateTime<Utc>,
    mut settle: impl FnMut(&mut A, DateTime<Utc>) -> Settled,
    forgettable: impl Fn(&A) -> bool,
) -> Vec<AlertEvent>
where
    Settled: IntoIterator<Item = AlertEvent>,
{
    let now = clock.map_or(now, |clock| clock.max(now));
    *clock = Some(now);
    let mut events: Vec<AlertEvent> = alerts.values_mut().flat_map(|alert| settle(alert, now)).collect();
    alerts.retain(|_, alert| !forgettable(alert));
    events.sort_by_key(|event| (event.ts, event.alert_key()));
    events
}

/// Whether an alert restored from the alerts topic has read a record newer than its restored event (what
/// is read again after a restart is behind it, so until then it must be kept to recognise it); an alert
/// never restored has nothing to wait for.
pub fn read_since_restore(restored_at: Option<DateTime<Utc>>, newest: Option<DateTime<Utc>>) -> bool {
    match (restored_at, newest) {
        (Some(restored_at), Some(newest)) => newest > restored_at,
        (Some(_), None) => false,
        (None, _) => true,
    }
}
