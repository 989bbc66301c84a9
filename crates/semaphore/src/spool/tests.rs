//! The spool's tests: order across segments, resume after a reopen, torn tails, damaged segments and the two
//! policies of a full spool, on real files in a temporary directory.

use super::*;
use crate::spool::frame::spooled;

fn tempdir() -> PathBuf {
    let directory = std::env::temp_dir().join(format!("semaphore-spool-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn settings(max_bytes: u64, when_full: WhenFull) -> SpoolSettings {
    SpoolSettings { max_bytes, when_full }
}

fn records(from: usize, count: usize) -> Vec<SpooledRecord> {
    (from..from + count)
        .map(|n| spooled("t", Some(&format!("k{}", n % 3)), &format!(r#"{{"n":{n}}}"#)))
        .collect()
}

fn payloads(batch: &ReadBatch) -> Vec<String> {
    batch
        .records
        .iter()
        .map(|record| String::from_utf8(record.record.payload.clone()).unwrap())
        .collect()
}

/// Reads and commits everything, `chunk` records at a time; the payloads in the order read.
fn drain(spool: &mut Spool, chunk: usize) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let batch = spool.read(chunk, usize::MAX).unwrap();
        if batch.records.is_empty() {
            return all;
        }
        all.extend(payloads(&batch));
        spool.commit(batch.end, batch.records.len() as u64).unwrap();
    }
}

fn expected(from: usize, count: usize) -> Vec<String> {
    (from..from + count).map(|n| format!(r#"{{"n":{n}}}"#)).collect()
}

/// A replay batch stops at a byte bound too (librdkafka spins when handed much more than a request), across
/// segments, the record that crosses the bound being the last; reading on resumes exactly there.
#[test]
fn a_read_stops_at_its_byte_bound_and_the_next_resumes_after_it() {
    let directory = tempdir();
    let mut spool = Spool::open(&directory, settings(1 << 20, WhenFull::RefuseNewest)).unwrap();
    spool.append(&records(0, 3000)).unwrap();
    // Payloads are 7 to 10 bytes: 1,000 bytes is 100 to 143 records.
    let mut all = Vec::new();
    loop {
        let batch = spool.read(5_000, 1_000).unwrap();
        if batch.records.is_empty() {
            break;
        }
        let bytes: usize = batch
            .records
            .iter()
            .map(|record| record.record.payload.len())
            .sum();
        let last = batch.records.last().unwrap().record.payload.len();
        assert!(
            bytes >= 1_000 || spool.len() == batch.records.len() as u64,
            "{bytes} bytes"
        );
        assert!(
            bytes - last < 1_000,
            "only the last record crosses the bound: {bytes} bytes"
        );
        all.extend(payloads(&batch));
        spool.commit(batch.end, batch.records.len() as u64).unwrap();
    }
    assert_eq!(all, expected(0, 3000));
}

#[test]
fn records_come_back_in_order_across_segments_and_replayed_segments_are_deleted() {
    let directory = tempdir();
    // A 1 MiB spool has 64 KiB segments: 3,000 records of ~90 bytes span several.
    let mut spool = Spool::open(&directory, settings(1 << 20, WhenFull::RefuseNewest)).unwrap();
    for start in (0..3000).step_by(100) {
        assert_eq!(spool.append(&records(start, 100)).unwrap().taken, 100);
    }
    assert!(segment::list(&directory).unwrap().len() > 2);
    assert_eq!(spool.stats().snapshot().records, 3000);
    assert_eq!(
        spool.stats().snapshot().oldest_spooled_ms,
        Some(1_764_000_000_999)
    );
    assert_eq!(drain(&mut spool, 700), expected(0, 3000));
    let snapshot = spool.stats().snapshot();
    assert_eq!(
        (snapshot.records, snapshot.replayed, snapshot.oldest_spooled_ms),
        (0, 3000, None)
    );
    assert!(spool.is_empty());
    // Only the segment being written is left.
    assert_eq!(segment::list(&directory).unwrap().len(), 1);
}

#[test]
fn a_reopened_spool_resumes_where_the_ledger_says_and_never_repeats() {
    let directory = tempdir();
    {
        let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
        spool.append(&records(0, 50)).unwrap();
        let batch = spool.read(20, usize::MAX).unwrap();
        spool.commit(batch.end, 20).unwrap();
        // Read but never acknowledged: a crash here sends these again.
        let _in_flight = spool.read(10, usize::MAX).unwrap();
    }
    let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
    assert_eq!(spool.len(), 30);
    spool.append(&records(50, 5)).unwrap();
    assert_eq!(drain(&mut spool, 8), expected(20, 35));
}

#[test]
fn a_torn_last_append_is_cut_off_and_appends_go_on_in_a_new_segment() {
    let directory = tempdir();
    {
        let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
        spool.append(&records(0, 10)).unwrap();
    }
    let last = *segment::list(&directory).unwrap().last().unwrap();
    let path = segment::path(&directory, last);
    let mut half = Vec::new();
    frame::encode(&records(10, 1)[0], &mut half);
    half.truncate(half.len() / 2);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&half).unwrap();
    drop(file);
    let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
    assert_eq!(spool.stats().snapshot().corrupt_bytes, 0);
    spool.append(&records(11, 2)).unwrap();
    let mut want = expected(0, 10);
    want.extend(expected(11, 2));
    assert_eq!(drain(&mut spool, 4), want);
}

#[test]
fn a_damaged_segment_is_named_kept_aside_and_the_rest_replayed() {
    let directory = tempdir();
    {
        let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
        spool.append(&records(0, 10)).unwrap();
    }
    {
        let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
        spool.append(&records(10, 10)).unwrap();
    }
    // Flip a byte inside the 6th record of the first segment.
    let first = segment::list(&directory).unwrap()[0];
    let path = segment::path(&directory, first);
    let mut bytes = std::fs::read(&path).unwrap();
    let mut one = Vec::new();
    frame::encode(&records(0, 1)[0], &mut one);
    let at = segment::MAGIC.len() + one.len() * 5 + 12;
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();

    let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
    assert!(spool.stats().snapshot().corrupt_bytes > 0);
    let mut want = expected(0, 5);
    want.extend(expected(10, 10));
    assert_eq!(drain(&mut spool, 3), want);
    assert!(
        path.with_extension("spool.corrupt").exists(),
        "kept for inspection"
    );
}

#[test]
fn a_full_spool_refuses_the_newest_and_counts_them() {
    let directory = tempdir();
    let mut one = Vec::new();
    frame::encode(&records(0, 1)[0], &mut one);
    // Room for the magic and about 10 records.
    let max = (segment::MAGIC.len() + one.len() * 10 + one.len() / 2) as u64;
    let mut spool = Spool::open(&directory, settings(max, WhenFull::RefuseNewest)).unwrap();
    assert_eq!(spool.append(&records(0, 8)).unwrap().taken, 8);
    assert_eq!(spool.append(&records(8, 8)).unwrap().taken, 2);
    assert_eq!(spool.stats().snapshot().refused, 6);
    assert_eq!(drain(&mut spool, 100), expected(0, 10));
}

#[test]
fn a_full_spool_can_drop_the_oldest_instead_and_counts_them() {
    let directory = tempdir();
    // 64 KiB segments in a 256 KiB spool; 20,000 records of ~80 bytes do not fit.
    let mut spool = Spool::open(&directory, settings(256 * 1024, WhenFull::DropOldest)).unwrap();
    for start in (0..20_000).step_by(500) {
        assert_eq!(spool.append(&records(start, 500)).unwrap().taken, 500);
    }
    let snapshot = spool.stats().snapshot();
    assert!(snapshot.bytes <= 256 * 1024, "{snapshot:?}");
    assert!(snapshot.dropped_oldest > 0);
    assert_eq!(snapshot.dropped_oldest + snapshot.records, 20_000, "{snapshot:?}");
    let left = drain(&mut spool, 1000);
    // What is left is the newest records, in order.
    let first: usize = left[0][5..left[0].len() - 1].parse().unwrap();
    assert_eq!(left, expected(first, 20_000 - first));
}

#[test]
fn a_file_that_is_not_a_segment_is_set_aside_and_the_rest_replayed() {
    let directory = tempdir();
    std::fs::write(segment::path(&directory, 1), b"not a spool").unwrap();
    let mut spool = Spool::open(&directory, settings(1 << 30, WhenFull::RefuseNewest)).unwrap();
    assert_eq!(spool.stats().snapshot().corrupt_bytes, 11);
    assert!(directory.join("00000000000000000001.spool.corrupt").exists());
    spool.append(&records(0, 3)).unwrap();
    assert_eq!(drain(&mut spool, 2), expected(0, 3));
}
