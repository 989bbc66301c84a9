//! Per-second rates of one device's interfaces, from two polls' counters (pure: the caller says when each
//! answer came). [`DeviceRates`] keeps each interface's previous sample and turns the next poll into rates, or
//! into the [`RateGap`] that says why there is none:
//!
//! - the interface's first poll (or the first since it appeared): nothing to compare with;
//! - the device restarted since the poll before (so its counters did too): no rates that poll, for any
//!   interface. It did when `sysUpTime` went backwards (passing 2^32 hundredths, 497 days, is a wrap, not a
//!   restart), or when it is now less than the time since the poll before, which catches a restart during
//!   missed polls after which the device has been up longer than it had been then;
//! - a 64-bit counter went backwards: it was cleared, as 2^64 octets do not pass between two polls; a 32-bit
//!   counter that went backwards wrapped once, and 2^32 is added (at 1 Gbit/s `ifInOctets` wraps every 34 s,
//!   which is why IF-MIB has the `ifHC` counters; a 32-bit counter that wrapped twice between polls cannot be
//!   told from one that wrapped once), unless that wrap would mean more octets than the interface's speed
//!   carries in the time: then it was cleared (`clear counters`);
//! - a sum or a difference of counters that does not fit in 64 bits (a hostile agent): a reset, never a
//!   panic;
//! - the `ifIndex` now names another interface (`ifName` or `ifDescr` changed): its counters are another's.
//!
//! A missed poll (the device did not answer) leaves the previous sample in place, so the next rate covers the
//! real interval. An interface a poll no longer finds is forgotten.

use std::collections::HashMap;
use std::time::Duration;

/// 2^32: what a 32-bit counter (and `sysUpTime`) counts up to before it starts again from 0.
const WRAP_32: u64 = 1 << 32;

/// 2 s in hundredths: how far short of the time since the poll before `sysUpTime` may fall (with 1 % more)
/// before the device is taken to have restarted; the agent's clock and ours need not agree, and the time of
/// an answer is when it reached us, not when the agent read its clock.
const UPTIME_SLACK_TICKS: u64 = 200;

/// How much faster than its speed an interface's octets may seem to come before a 32-bit counter that went
/// backwards is taken as cleared rather than wrapped: the two answers' times are not the agent's.
const WRAP_SPEED_TOLERANCE: f64 = 1.01;

/// How many bits a counter has: a 32-bit one wraps, a 64-bit one (practically) never does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    Bits32,
    Bits64,
}

/// One counter's value as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub value: u64,
    pub width: Width,
}

impl Counter {
    pub fn bits32(value: u32) -> Self {
        Self {
            value: u64::from(value),
            width: Width::Bits32,
        }
    }

    pub fn bits64(value: u64) -> Self {
        Self {
            value,
            width: Width::Bits64,
        }
    }
}

/// An interface's counters as one poll read them; `None` for what the device did not answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub in_octets: Option<Counter>,
    pub out_octets: Option<Counter>,
    pub in_unicast: Option<Counter>,
    pub out_unicast: Option<Counter>,
    pub in_multicast: Option<Counter>,
    pub out_multicast: Option<Counter>,
    pub in_broadcast: Option<Counter>,
    pub out_broadcast: Option<Counter>,
    pub in_errors: Option<Counter>,
    pub out_errors: Option<Counter>,
    pub in_discards: Option<Counter>,
    pub out_discards: Option<Counter>,
}

/// One interface as one poll read it: what identifies it, its speed, its counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InterfaceSample {
    pub if_index: u32,
    pub if_name: Option<String>,
    pub if_descr: Option<String>,
    /// What utilization is measured against: `ifHighSpeed` in bit/s, else `ifSpeed`.
    pub speed_bits_per_second: Option<u64>,
    pub counters: Counters,
}

/// Why an interface has no rates this poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateGap {
    FirstPoll,
    Rebooted,
    CounterReset,
    Renumbered,
}

impl RateGap {
    /// As the record writes it, and the `reason` label of `semaphore_snmp_rate_gaps_total`.
    pub fn label(self) -> &'static str {
        match self {
            RateGap::FirstPoll => "firstPoll",
            RateGap::Rebooted => "rebooted",
            RateGap::CounterReset => "counterReset",
            RateGap::Renumbered => "renumbered",
        }
    }
}

/// An interface's rates per second; each `None` when a counter it needs is missing from either poll.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    /// The seconds between the two answers.
    pub interval_seconds: f64,
    pub in_bits: Option<f64>,
    pub out_bits: Option<f64>,
    pub in_packets: Option<f64>,
    pub out_packets: Option<f64>,
    pub in_errors: Option<f64>,
    pub out_errors: Option<f64>,
    pub in_discards: Option<f64>,
    pub out_discards: Option<f64>,
    /// Percent of the interface's speed; `None` when its speed is 0 or unknown.
    pub in_utilization: Option<f64>,
    pub out_utilization: Option<f64>,
}

/// What one poll's samples came to: whether the device restarted, and each interface's rates or gap, in the
/// order of the samples.
#[derive(Clone, Debug, PartialEq)]
pub struct PollRates {
    pub rebooted: bool,
    pub interfaces: Vec<Result<Rates, RateGap>>,
}

/// One device's previous poll.
#[derive(Debug, Default)]
pub struct DeviceRates {
    /// When the previous answer came, and its `sysUpTime` in hundredths of a second.
    previous: Option<(Duration, Option<u32>)>,
    interfaces: HashMap<u32, InterfaceSample>,
}

impl DeviceRates {
    /// The rates of one poll whose answer came at `at` (on any clock that only goes forward), with the
    /// device's `sysUpTime`; the samples become the previous poll.
    pub fn poll(&mut self, at: Duration, sys_up_time: Option<u32>, samples: &[InterfaceSample]) -> PollRates {
        let previous = self.previous.replace((at, sys_up_time));
        let elapsed = previous.map(|(then, _)| at.saturating_sub(then));
        let rebooted = previous
            .is_some_and(|(then, uptime_then)| restarted(at.saturating_sub(then), uptime_then, sys_up_time));
        let interfaces: Vec<Result<Rates, RateGap>> = samples
            .iter()
            .map(|sample| match (self.interfaces.get(&sample.if_index), elapsed) {
                (None, _) | (_, None) => Err(RateGap::FirstPoll),
                (Some(_), _) if rebooted => Err(RateGap::Rebooted),
                (Some(before), Some(elapsed)) => rates(before, sample, elapsed),
            })
            .collect();
        self.interfaces = samples
            .iter()
            .map(|sample| (sample.if_index, sample.clone()))
            .collect();
        PollRates { rebooted, interfaces }
    }
}

/// Whether the device restarted in the `elapsed` between the answers whose `sysUpTime`s are `before` and
/// `now` (hundredths of a second).
fn restarted(elapsed: Duration, before: Option<u32>, now: Option<u32>) -> bool {
    let (Some(before), Some(now)) = (before, now) else {
        return false;
    };
    let elapsed_ticks = ticks(elapsed);
    if now < before {
        // Backwards: a restart, unless it passed 2^32 hundredths in that time (twice the elapsed time: the
        // agent's clock and ours need not agree to the hundredth).
        return u64::from(before).saturating_add(elapsed_ticks.saturating_mul(2)) < WRAP_32;
    }
    // Forwards, yet up for less than the time since the answer before: it restarted after that answer.
    let slack = UPTIME_SLACK_TICKS.saturating_add(elapsed_ticks / 100);
    u64::from(now).saturating_add(slack) < elapsed_ticks
}

/// `duration` in hundredths of a second, as `sysUpTime` counts.
fn ticks(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis() / 10).unwrap_or(u64::MAX)
}

/// The rates between two samples of one interface `elapsed` apart.
fn rates(before: &InterfaceSample, now: &InterfaceSample, elapsed: Duration) -> Result<Rates, RateGap> {
    if before.if_name != now.if_name || before.if_descr != now.if_descr {
        return Err(RateGap::Renumbered);
    }
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        // Two answers at one instant measure nothing: as if there were no earlier one.
        return Err(RateGap::FirstPoll);
    }
    let (old, new) = (&before.counters, &now.counters);
    let per_second = |delta: Option<u64>| delta.map(|delta| delta as f64 / seconds);
    let speed = now
        .speed_bits_per_second
        .filter(|speed| *speed > 0)
        .map(|speed| speed as f64);
    // The most octets the interface can have carried in the time.
    let most_octets = speed.map(|speed| speed / 8.0 * seconds * WRAP_SPEED_TOLERANCE);
    let in_octets = octets(old.in_octets, new.in_octets, most_octets)?;
    let out_octets = octets(old.out_octets, new.out_octets, most_octets)?;
    let in_packets = packets(
        [old.in_unicast, old.in_multicast, old.in_broadcast],
        [new.in_unicast, new.in_multicast, new.in_broadcast],
    )?;
    let out_packets = packets(
        [old.out_unicast, old.out_multicast, old.out_broadcast],
        [new.out_unicast, new.out_multicast, new.out_broadcast],
    )?;
    let in_bits = per_second(in_octets).map(|octets| octets * 8.0);
    let out_bits = per_second(out_octets).map(|octets| octets * 8.0);
    let utilization = |bits: Option<f64>| Some(bits? / speed? * 100.0);
    Ok(Rates {
        interval_seconds: seconds,
        in_bits,
        out_bits,
        in_packets: per_second(in_packets),
        out_packets: per_second(out_packets),
        in_errors: per_second(delta(old.in_errors, new.in_errors)?),
        out_errors: per_second(delta(old.out_errors, new.out_errors)?),
        in_discards: per_second(delta(old.in_discards, new.in_discards)?),
        out_discards: per_second(delta(old.out_discards, new.out_discards)?),
        in_utilization: utilization(in_bits),
        out_utilization: utilization(out_bits),
    })
}

/// How much a counter grew: a 32-bit counter that went backwards wrapped once; a 64-bit one, or one whose
/// width changed (the device stopped or started answering the `ifHC` counters), was reset. `None` when
/// either poll lacks it.
fn delta(before: Option<Counter>, now: Option<Counter>) -> Result<Option<u64>, RateGap> {
    let (Some(before), Some(now)) = (before, now) else {
        return Ok(None);
    };
    if before.width != now.width {
        return Err(RateGap::CounterReset);
    }
    let grown = match now.value.checked_sub(before.value) {
        Some(grown) => Some(grown),
        // A value past 32 bits in a 32-bit counter (a hostile agent) does not fit: a reset too.
        None if now.width == Width::Bits32 => now
            .value
            .checked_add(WRAP_32)
            .and_then(|unwrapped| unwrapped.checked_sub(before.value)),
        None => None,
    };
    grown.map(Some).ok_or(RateGap::CounterReset)
}

/// An octet counter's growth, as [`delta`]; a 32-bit counter that went backwards by more than `most` octets
/// short of a wrap (it would have carried more than its speed) was cleared, not wrapped.
fn octets(before: Option<Counter>, now: Option<Counter>, most: Option<f64>) -> Result<Option<u64>, RateGap> {
    let grown = delta(before, now)?;
    let went_back = matches!((before, now), (Some(before), Some(now)) if now.value < before.value);
    match (grown, most) {
        (Some(octets), Some(most)) if went_back && octets as f64 > most => Err(RateGap::CounterReset),
        _ => Ok(grown),
    }
}

/// Unicast, multicast and broadcast packets together: the unicast counter is needed, the other two are
/// added when both polls have them (not every device counts them).
fn packets(before: [Option<Counter>; 3], now: [Option<Counter>; 3]) -> Result<Option<u64>, RateGap> {
    let Some(unicast) = delta(before[0], now[0])? else {
        return Ok(None);
    };
    let multicast = delta(before[1], now[1])?.unwrap_or(0);
    let broadcast = delta(before[2], now[2])?.unwrap_or(0);
    let sum = unicast
        .checked_add(multicast)
        .and_then(|sum| sum.checked_add(broadcast));
    sum.map(Some).ok_or(RateGap::CounterReset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    /// A 64-bit interface: `octets` in and out a tenth of it, `packets` unicast in and half that out, 10
    /// multicast and 1 broadcast each way, 2 errors and 1 discard in.
    fn hc(if_index: u32, octets: u64, packets: u64, errors: u32) -> InterfaceSample {
        InterfaceSample {
            if_index,
            if_name: Some(format!("eth{if_index}")),
            if_descr: Some(format!("Ethernet {if_index}")),
            speed_bits_per_second: Some(1_000_000_000),
            counters: Counters {
                in_octets: Some(Counter::bits64(octets)),
                out_octets: Some(Counter::bits64(octets / 10)),
                in_unicast: Some(Counter::bits64(packets)),
                out_unicast: Some(Counter::bits64(packets / 2)),
                in_multicast: Some(Counter::bits64(10)),
                out_multicast: Some(Counter::bits64(10)),
                in_broadcast: Some(Counter::bits64(1)),
                out_broadcast: Some(Counter::bits64(1)),
                in_errors: Some(Counter::bits32(errors)),
                out_errors: Some(Counter::bits32(0)),
                in_discards: Some(Counter::bits32(errors / 2)),
                out_discards: Some(Counter::bits32(0)),
            },
        }
    }

    /// A device without `ifHC` counters: 32-bit octets and unicast packets only, 100 Mbit/s.
    fn plain(if_index: u32, octets: u32, packets: u32) -> InterfaceSample {
        InterfaceSample {
            if_index,
            if_name: None,
            if_descr: Some(format!("port {if_index}")),
            speed_bits_per_second: Some(100_000_000),
            counters: Counters {
                in_octets: Some(Counter::bits32(octets)),
                out_octets: Some(Counter::bits32(octets)),
                in_unicast: Some(Counter::bits32(packets)),
                out_unicast: Some(Counter::bits32(packets)),
                ..Counters::default()
            },
        }
    }

    fn only(rates: &PollRates) -> Result<Rates, RateGap> {
        assert_eq!(rates.interfaces.len(), 1);
        rates.interfaces[0]
    }

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a rate");
        assert!((actual - expected).abs() < 1e-6, "{actual} != {expected}");
    }

    #[test]
    fn the_first_poll_has_no_rate_and_the_second_has_them() {
        let mut device = DeviceRates::default();
        let first = device.poll(MINUTE, Some(100), &[hc(1, 1_000_000, 1_000, 10)]);
        assert_eq!(only(&first), Err(RateGap::FirstPoll));
        assert!(!first.rebooted);
        // A minute later: 75,000,000 more octets in is 10 Mbit/s, 1% of 1 Gbit/s.
        let second = device.poll(2 * MINUTE, Some(6_100), &[hc(1, 76_000_000, 61_000, 22)]);
        let rates = only(&second).expect("rates");
        assert_eq!(rates.interval_seconds, 60.0);
        close(rates.in_bits, 10_000_000.0);
        close(rates.out_bits, 1_000_000.0);
        close(rates.in_utilization, 1.0);
        close(rates.out_utilization, 0.1);
        // 60,000 unicast packets in (multicast and broadcast did not move): 1,000 a second.
        close(rates.in_packets, 1_000.0);
        close(rates.out_packets, 500.0);
        close(rates.in_errors, 0.2);
        close(rates.out_errors, 0.0);
        close(rates.in_discards, 0.1);
        close(rates.out_discards, 0.0);
    }

    #[test]
    fn multicast_and_broadcast_count_as_packets_when_present() {
        let mut device = DeviceRates::default();
        let mut before = hc(1, 0, 0, 0);
        device.poll(MINUTE, None, std::slice::from_ref(&before));
        before.counters.in_unicast = Some(Counter::bits64(600));
        before.counters.in_multicast = Some(Counter::bits64(10 + 60));
        before.counters.in_broadcast = Some(Counter::bits64(1 + 6));
        let rates = only(&device.poll(2 * MINUTE, None, &[before])).expect("rates");
        // 600 unicast, 60 multicast and 6 broadcast packets over 60 s.
        close(rates.in_packets, 11.1);
        // Without unicast there is no packet rate, and the rest still has one.
        let mut device = DeviceRates::default();
        let mut without = hc(2, 0, 0, 0);
        without.counters.in_unicast = None;
        device.poll(MINUTE, None, std::slice::from_ref(&without));
        let rates = only(&device.poll(2 * MINUTE, None, &[without])).expect("rates");
        assert_eq!(rates.in_packets, None);
        close(rates.out_packets, 0.0);
        close(rates.in_bits, 0.0);
    }

    #[test]
    fn a_32_bit_counter_that_went_backwards_wrapped() {
        let mut device = DeviceRates::default();
        device.poll(MINUTE, Some(1_000), &[plain(7, 4_294_000_000, 4_294_967_000)]);
        // 967,296 octets to the wrap, then 32,704 more: 1,000,000 octets in 60 s.
        let rates = only(&device.poll(2 * MINUTE, Some(7_000), &[plain(7, 32_704, 296)])).expect("rates");
        close(rates.in_bits, 1_000_000.0 * 8.0 / 60.0);
        close(rates.in_packets, 592.0 / 60.0);
        // 133,333 bit/s of 100 Mbit/s.
        close(rates.in_utilization, 8_000_000.0 / 60.0 / 1e6);
        assert_eq!(
            rates.in_errors, None,
            "a counter the device does not answer has no rate"
        );
    }

    #[test]
    fn a_64_bit_counter_that_went_backwards_was_reset() {
        let mut device = DeviceRates::default();
        device.poll(MINUTE, Some(1_000), &[hc(1, 5_000_000, 5_000, 0)]);
        let cleared = device.poll(2 * MINUTE, Some(7_000), &[hc(1, 1_000, 5_100, 0)]);
        assert_eq!(only(&cleared), Err(RateGap::CounterReset));
        assert!(!cleared.rebooted);
        // The cleared values are the new base: the poll after has rates again.
        let after = device.poll(3 * MINUTE, Some(13_000), &[hc(1, 61_000, 5_700, 0)]);
        close(only(&after).expect("rates").in_bits, 8_000.0);
    }

    #[test]
    fn counters_that_change_width_are_a_reset() {
        let mut device = DeviceRates::default();
        let mut sample = plain(1, 1_000, 10);
        device.poll(MINUTE, None, std::slice::from_ref(&sample));
        sample.counters.in_octets = Some(Counter::bits64(2_000));
        assert_eq!(
            only(&device.poll(2 * MINUTE, None, &[sample])),
            Err(RateGap::CounterReset)
        );
    }

    #[test]
    fn a_reboot_gives_no_rates_that_poll() {
        let mut device = DeviceRates::default();
        let interfaces = [hc(1, 1_000_000, 100, 0), hc(2, 2_000_000, 200, 0)];
        device.poll(MINUTE, Some(8_640_000), &interfaces);
        // Up a day, then up 30 s: the device restarted, and its counters with it.
        let after = [hc(1, 3_000, 3, 0), hc(2, 6_000, 6, 0)];
        let rebooted = device.poll(2 * MINUTE, Some(3_000), &after);
        assert!(rebooted.rebooted);
        assert_eq!(
            rebooted.interfaces,
            vec![Err(RateGap::Rebooted), Err(RateGap::Rebooted)]
        );
        let next = device.poll(
            3 * MINUTE,
            Some(9_000),
            &[hc(1, 63_000, 63, 0), hc(2, 6_000, 6, 0)],
        );
        assert!(!next.rebooted);
        close(next.interfaces[0].expect("rates").in_bits, 8_000.0);
        close(next.interfaces[1].expect("rates").in_bits, 0.0);
    }

    /// Issue 14 review: a device that rebooted during missed polls and has been up longer since than it had
    /// been at the poll before; its `sysUpTime` did not go backwards.
    #[test]
    fn a_reboot_during_missed_polls_is_a_reboot_though_the_uptime_went_on() {
        let mut device = DeviceRates::default();
        // Up an hour; then a day without an answer; now up 12 hours.
        device.poll(MINUTE, Some(360_000), &[hc(1, 1_000_000, 100, 0)]);
        let day = Duration::from_secs(86_400);
        let after = device.poll(MINUTE + day, Some(4_320_000), &[hc(1, 9_000_000, 900, 0)]);
        assert!(after.rebooted);
        assert_eq!(only(&after), Err(RateGap::Rebooted));
        // An uptime that kept up with our clock, within its slack, is no restart.
        let next = device.poll(
            2 * MINUTE + day,
            Some(4_320_000 + 5_900),
            &[hc(1, 9_060_000, 900, 0)],
        );
        assert!(!next.rebooted);
        close(only(&next).expect("rates").in_bits, 8_000.0);
        // A frozen uptime (a recorded agent) longer than the interval is no restart either.
        let frozen = device.poll(
            3 * MINUTE + day,
            Some(4_320_000 + 5_900),
            &[hc(1, 9_120_000, 900, 0)],
        );
        assert!(!frozen.rebooted);
    }

    /// A 32-bit counter cleared (`clear counters`) looks like a wrap; one that would mean more than the
    /// interface's speed is a reset.
    #[test]
    fn a_32_bit_wrap_faster_than_the_interface_is_a_reset() {
        let mut device = DeviceRates::default();
        let mut before = plain(7, 4_000_000_000, 100);
        before.speed_bits_per_second = Some(10_000_000);
        device.poll(MINUTE, Some(1_000), std::slice::from_ref(&before));
        // 294,968,296 octets in 60 s is 39 Mbit/s, on a 10 Mbit/s port.
        let mut cleared = plain(7, 1_000, 200);
        cleared.speed_bits_per_second = Some(10_000_000);
        let reset = device.poll(2 * MINUTE, Some(7_000), std::slice::from_ref(&cleared));
        assert_eq!(only(&reset), Err(RateGap::CounterReset));
        // A wrap the speed allows stays a wrap: 1,000,000 octets in 60 s.
        let mut near = plain(7, 4_294_000_000, 100);
        near.speed_bits_per_second = Some(10_000_000);
        device.poll(3 * MINUTE, Some(13_000), std::slice::from_ref(&near));
        let mut wrapped = plain(7, 32_704, 200);
        wrapped.speed_bits_per_second = Some(10_000_000);
        let rates = only(&device.poll(4 * MINUTE, Some(19_000), &[wrapped])).expect("rates");
        close(rates.in_bits, 1_000_000.0 * 8.0 / 60.0);
    }

    /// A hostile agent's Counter64s whose sum does not fit in 64 bits: a reset, not a panic (debug builds
    /// check overflow).
    #[test]
    fn counters_whose_sum_overflows_are_a_reset() {
        let mut device = DeviceRates::default();
        let zero = hc(1, 0, 0, 0);
        let mut before = zero.clone();
        before.counters.in_multicast = Some(Counter::bits64(0));
        before.counters.in_broadcast = Some(Counter::bits64(0));
        device.poll(MINUTE, None, &[before]);
        let mut huge = zero;
        huge.counters.in_unicast = Some(Counter::bits64(u64::MAX));
        huge.counters.in_multicast = Some(Counter::bits64(u64::MAX));
        huge.counters.in_broadcast = Some(Counter::bits64(u64::MAX));
        assert_eq!(
            only(&device.poll(2 * MINUTE, None, &[huge])),
            Err(RateGap::CounterReset)
        );
        // A "32-bit" counter holding more than 32 bits does not underflow either.
        let odd = Counter {
            value: u64::MAX,
            width: Width::Bits32,
        };
        assert_eq!(
            delta(Some(odd), Some(Counter::bits32(1))),
            Err(RateGap::CounterReset)
        );
    }

    #[test]
    fn sys_up_time_passing_2_to_the_32_is_no_reboot() {
        let mut device = DeviceRates::default();
        // 497 days up, 1,000 hundredths before the wrap; a minute later it reads 5,000.
        device.poll(MINUTE, Some(u32::MAX - 999), &[hc(1, 0, 0, 0)]);
        let wrapped = device.poll(2 * MINUTE, Some(5_000), &[hc(1, 60_000, 0, 0)]);
        assert!(!wrapped.rebooted);
        close(only(&wrapped).expect("rates").in_bits, 8_000.0);
        // Far from the wrap, the same drop is a restart.
        let mut device = DeviceRates::default();
        device.poll(MINUTE, Some(1_000_000), &[hc(1, 0, 0, 0)]);
        assert!(device.poll(2 * MINUTE, Some(5_000), &[hc(1, 0, 0, 0)]).rebooted);
        // Without sysUpTime nothing is known of restarts.
        let mut device = DeviceRates::default();
        device.poll(MINUTE, Some(1_000_000), &[hc(1, 0, 0, 0)]);
        assert!(!device.poll(2 * MINUTE, None, &[hc(1, 0, 0, 0)]).rebooted);
    }

    #[test]
    fn a_renumbered_interface_has_no_rate() {
        let mut device = DeviceRates::default();
        device.poll(MINUTE, None, &[hc(1, 1_000, 1, 0)]);
        let mut other = hc(1, 2_000, 2, 0);
        other.if_name = Some("eth9".to_owned());
        assert_eq!(
            only(&device.poll(2 * MINUTE, None, std::slice::from_ref(&other))),
            Err(RateGap::Renumbered)
        );
        // ifDescr changing alone is a renumbering too.
        other.if_descr = Some("Ethernet 9 (new card)".to_owned());
        other.counters.in_octets = Some(Counter::bits64(62_000));
        assert_eq!(
            only(&device.poll(3 * MINUTE, None, std::slice::from_ref(&other))),
            Err(RateGap::Renumbered)
        );
        other.counters.in_octets = Some(Counter::bits64(122_000));
        close(
            only(&device.poll(4 * MINUTE, None, &[other]))
                .expect("rates")
                .in_bits,
            8_000.0,
        );
    }

    #[test]
    fn a_missed_poll_gives_the_rate_over_the_real_interval() {
        let mut device = DeviceRates::default();
        device.poll(MINUTE, Some(6_000), &[hc(1, 0, 0, 0)]);
        // The poll at two minutes timed out (nothing reached DeviceRates); three minutes after the first:
        let rates =
            only(&device.poll(4 * MINUTE, Some(24_000), &[hc(1, 1_800_000, 18_000, 0)])).expect("rates");
        assert_eq!(rates.interval_seconds, 180.0);
        close(rates.in_bits, 80_000.0);
        close(rates.in_packets, 100.0);
    }

    #[test]
    fn an_interface_that_disappeared_is_forgotten() {
        let mut device = DeviceRates::default();
        device.poll(MINUTE, None, &[hc(1, 0, 0, 0), hc(2, 0, 0, 0)]);
        let without_two = device.poll(2 * MINUTE, None, &[hc(1, 60_000, 0, 0)]);
        assert_eq!(without_two.interfaces.len(), 1);
        assert!(without_two.interfaces[0].is_ok());
        // Back a poll later: a first poll again, not a rate over two minutes.
        let back = device.poll(3 * MINUTE, None, &[hc(1, 120_000, 0, 0), hc(2, 120_000, 0, 0)]);
        assert!(back.interfaces[0].is_ok());
        assert_eq!(back.interfaces[1], Err(RateGap::FirstPoll));
        // A new interface is a first poll while the others have rates.
        let added = device.poll(
            4 * MINUTE,
            None,
            &[hc(1, 120_000, 0, 0), hc(2, 120_000, 0, 0), hc(3, 0, 0, 0)],
        );
        assert!(added.interfaces[0].is_ok() && added.interfaces[1].is_ok());
        assert_eq!(added.interfaces[2], Err(RateGap::FirstPoll));
    }

    #[test]
    fn utilization_needs_a_speed() {
        let mut device = DeviceRates::default();
        let mut sample = hc(1, 0, 0, 0);
        sample.speed_bits_per_second = Some(0);
        device.poll(MINUTE, None, std::slice::from_ref(&sample));
        sample.counters.in_octets = Some(Counter::bits64(60_000));
        let rates = only(&device.poll(2 * MINUTE, None, std::slice::from_ref(&sample))).expect("rates");
        close(rates.in_bits, 8_000.0);
        assert_eq!(rates.in_utilization, None);
        sample.speed_bits_per_second = None;
        sample.counters.in_octets = Some(Counter::bits64(120_000));
        let rates = only(&device.poll(3 * MINUTE, None, &[sample])).expect("rates");
        assert_eq!(rates.in_utilization, None);
    }

    #[test]
    fn gaps_are_labelled_as_records_write_them() {
        assert_eq!(RateGap::FirstPoll.label(), "firstPoll");
        assert_eq!(RateGap::Rebooted.label(), "rebooted");
        assert_eq!(RateGap::CounterReset.label(), "counterReset");
        assert_eq!(RateGap::Renumbered.label(), "renumbered");
    }
}
