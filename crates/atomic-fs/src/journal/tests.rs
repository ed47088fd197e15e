//! Unit tests of the journal record format: encoding, checksums, torn tails and damage.

use proptest::prelude::*;

use super::*;

fn lines(records: &[(u64, &str)]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|(sequence, payload)| encode_record(*sequence, payload.as_bytes()).unwrap())
        .collect()
}

fn sequences(records: &[JournalRecord]) -> Vec<u64> {
    records.iter().map(|record| record.sequence).collect()
}

#[test]
fn a_record_round_trips_and_its_line_is_what_the_docs_say() {
    let line = encode_record(42, br#"{"a":1}"#).unwrap();
    let text = String::from_utf8(line.clone()).unwrap();
    let crc = crc32fast::hash(br#"42 {"a":1}"#);
    assert_eq!(text, format!("42 {crc:08x} {{\"a\":1}}\n"));
    let record = decode_record(&line[..line.len() - 1]).unwrap();
    assert_eq!(record, JournalRecord { sequence: 42, payload: br#"{"a":1}"#.to_vec() });
}

#[test]
fn an_empty_payload_is_a_record_and_a_newline_in_one_is_refused() {
    let line = encode_record(7, b"").unwrap();
    assert_eq!(decode_record(&line[..line.len() - 1]).unwrap().payload, b"");
    assert!(matches!(encode_record(1, b"a\nb"), Err(RecordError::Malformed(_))));
}

#[test]
fn every_changed_byte_fails_the_checksum_or_the_shape() {
    let line = encode_record(1234, b"payload bytes").unwrap();
    let body = &line[..line.len() - 1];
    for position in 0..body.len() {
        let mut changed = body.to_vec();
        changed[position] ^= 0x01;
        assert!(decode_record(&changed).is_err(), "byte {position} changed and still decoded");
    }
}

#[test]
fn malformed_lines_are_refused() {
    for line in [&b""[..], b"12", b"12 0000", b"x 00000000 p", b"1 0000000G p", b"1 ABCDEF01 p"] {
        assert!(decode_record(line).is_err(), "{}", String::from_utf8_lossy(line));
    }
    assert!(decode_record(b"99999999999999999999 00000000 p").is_err(), "over u64");
}

#[test]
fn a_clean_journal_has_every_record_and_no_tail() {
    let bytes = lines(&[(5, "a"), (6, "b"), (7, "c")]);
    let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(&bytes);
    assert_eq!(sequences(&records), [5, 6, 7]);
    assert_eq!(valid_len, bytes.len() as u64);
    assert_eq!((torn, damage), (None, vec![]));
}

#[test]
fn a_cut_or_zero_filled_last_line_is_a_torn_tail_not_damage() {
    let good = lines(&[(1, "a"), (2, "b")]);
    let last = encode_record(3, b"the write a crash interrupted").unwrap();
    for kept in 1..last.len() {
        for zero_filled in [false, true] {
            let mut bytes = good.clone();
            bytes.extend_from_slice(&last[..kept]);
            if zero_filled {
                bytes.resize(good.len() + last.len(), 0);
            }
            let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } =
                parse_journal(&bytes);
            assert_eq!(sequences(&records), [1, 2], "kept {kept}");
            assert_eq!(valid_len, good.len() as u64);
            assert_eq!(torn, Some((bytes.len() - good.len()) as u64));
            assert!(damage.is_empty(), "kept {kept}: {damage:?}");
        }
    }
}

#[test]
fn a_whole_last_line_failing_its_checksum_is_damage_not_a_torn_tail() {
    let mut bytes = lines(&[(1, "a"), (2, "b")]);
    let good_len = bytes.len();
    let mut last = encode_record(3, b"c").unwrap();
    let end = last.len() - 2;
    last[end] = b'x';
    bytes.extend_from_slice(&last);
    let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(&bytes);
    assert_eq!(sequences(&records), [1, 2]);
    assert_eq!((valid_len, torn), (good_len as u64, Some(last.len() as u64)));
    assert_eq!(damage.len(), 1, "a crash cannot leave a whole line that fails");
    assert_eq!(damage[0].line, 3);
}

#[test]
fn a_flipped_newline_that_merges_the_last_two_records_is_damage() {
    let mut bytes = lines(&[(1, "a"), (2, "b"), (3, "c")]);
    let newline = lines(&[(1, "a"), (2, "b")]).len() - 1;
    bytes[newline] = b'*';
    let ParsedJournal { records, damage, .. } = parse_journal(&bytes);
    assert_eq!(sequences(&records), [1]);
    assert_eq!(damage.len(), 1, "the acknowledged record 2 is not silently cut off");
}

#[test]
fn a_bad_line_before_good_ones_is_damage_and_the_good_ones_are_kept() {
    let mut bytes = lines(&[(1, "a")]);
    let bad_offset = bytes.len();
    let mut bad = encode_record(2, b"b").unwrap();
    bad[0] = b'9';
    bytes.extend_from_slice(&bad);
    bytes.extend_from_slice(&lines(&[(3, "c"), (4, "d")]));
    let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(&bytes);
    assert_eq!(sequences(&records), [1, 3, 4], "every line checks itself");
    assert_eq!((valid_len, torn), (bytes.len() as u64, None));
    assert_eq!(damage.len(), 1);
    assert_eq!((damage[0].line, damage[0].offset), (2, bad_offset as u64));
    assert!(damage[0].problem.contains("checksum"), "{}", damage[0].problem);
}

#[test]
fn a_sequence_that_does_not_follow_is_damage() {
    for order in [[1, 3], [2, 2], [5, 4]] {
        let bytes = lines(&[(order[0], "a"), (order[1], "b"), (order[1] + 10, "c")]);
        let ParsedJournal { records, damage, .. } = parse_journal(&bytes);
        assert_eq!(sequences(&records), [order[0]], "{order:?}");
        assert_eq!(damage.len(), 2, "{order:?}: {damage:?}");
        assert!(damage[0].problem.contains("does not follow"), "{}", damage[0].problem);
    }
}

#[test]
fn an_empty_file_is_a_journal_without_records() {
    let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(b"");
    assert!(records.is_empty() && damage.is_empty());
    assert_eq!((valid_len, torn), (0, None));
}

/// The invariants of a parse, whatever the bytes: good records follow each other, none ends
/// past `valid_len`, and a torn tail is exactly what follows the last good record.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(bytes);
    prop_assert!(valid_len <= bytes.len() as u64);
    prop_assert_eq!(torn, (valid_len < bytes.len() as u64).then(|| bytes.len() as u64 - valid_len));
    for pair in records.windows(2) {
        prop_assert!(pair[1].sequence > pair[0].sequence, "{:?}", pair);
    }
    for record in &records {
        prop_assert!(!record.payload.contains(&b'\n'));
    }
    for found in &damage {
        prop_assert!(found.offset < bytes.len() as u64 && found.line >= 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the decoder or the parser.
    #[test]
    fn arbitrary_bytes_never_panic_and_keep_the_invariants(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_record(&bytes);
        check_parse(&bytes)?;
    }

    /// A journal of good records, then any damage: every record before the damage survives,
    /// and a cut anywhere in the last record only makes a torn tail.
    #[test]
    fn good_records_survive_a_cut_or_a_flipped_byte(
        payloads in prop::collection::vec("[ -~]{0,40}", 1..8),
        first in 0u64..1_000_000,
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let lines: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(index, payload)| encode_record(first + index as u64, payload.as_bytes()).unwrap())
            .collect();
        let whole: Vec<u8> = lines.concat();
        let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(&whole);
        prop_assert_eq!(records.len(), lines.len());
        prop_assert_eq!((valid_len, torn, damage.len()), (whole.len() as u64, None, 0));

        let last_start = whole.len() - lines.last().unwrap().len();
        let cut_at = last_start + cut.index(lines.last().unwrap().len());
        let ParsedJournal { records, valid_len, torn_tail: torn, damage, .. } = parse_journal(&whole[..cut_at]);
        prop_assert_eq!(records.len(), lines.len() - 1);
        prop_assert_eq!(valid_len, last_start as u64);
        prop_assert_eq!(torn, (cut_at > last_start).then(|| (cut_at - last_start) as u64));
        prop_assert!(damage.is_empty());

        let mut flipped = whole.clone();
        let position = flip.index(flipped.len());
        flipped[position] ^= 0x20;
        check_parse(&flipped)?;
        let ParsedJournal { records, torn_tail: torn, damage, .. } = parse_journal(&flipped);
        // One flipped byte costs one record, or two when it was a newline (merging them).
        prop_assert!(records.len() + 2 >= lines.len());
        if records.len() < lines.len() {
            let silent = torn.is_some() && damage.is_empty();
            prop_assert!(!silent || records.len() + 1 == lines.len(), "a lost record is never silent unless it is the last, unterminated one");
        }
    }
}

/// Two appenders that both believe they hold the lock (a deleted lock file) and both read the
/// same generation: with `O_APPEND` each record lands at the end as it is then, so neither
/// overwrites the other's (a positioned write at the size both read would).
#[test]
fn two_appenders_of_one_generation_never_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.journal");
    let lock = crate::FileLock::lock(&dir.path().join("j.lock"), std::time::Duration::from_secs(1))
        .unwrap();
    let config = crate::ReplaceConfig { durability: Durability::Full, backup: crate::Backup::None };
    crate::replace_locked(&path, &encode_record(0, b"marker").unwrap(), &config, &lock).unwrap();
    let read = read_journal(&path, 1 << 20).unwrap().unwrap();
    let mut first = JournalWriter::open(&path, &read.identity).unwrap();
    let mut second = JournalWriter::open(&path, &read.identity).unwrap();
    first.append(&encode_record(1, b"from the first").unwrap(), &lock, Durability::Full).unwrap();
    second.append(&encode_record(1, b"from the second").unwrap(), &lock, Durability::Full).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("from the first") && text.contains("from the second"), "{text}");
}
