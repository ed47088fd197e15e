//! Unit tests of the segment frame format: round trips, torn tails and damage.

use proptest::prelude::*;

use super::*;

fn frames(payloads: &[&[u8]]) -> Vec<u8> {
    payloads.iter().flat_map(|payload| encode_frame(payload).unwrap()).collect()
}

fn payloads(frames: &[Frame]) -> Vec<Vec<u8>> {
    frames.iter().map(|frame| frame.payload.clone()).collect()
}

#[test]
fn a_frame_is_what_the_docs_say() {
    let frame = encode_frame(b"abc").unwrap();
    let mut expected = b"AMF1".to_vec();
    expected.extend_from_slice(&3u32.to_le_bytes());
    expected.extend_from_slice(&crc32fast::hash(b"abc").to_le_bytes());
    expected.extend_from_slice(b"abc");
    assert_eq!(frame, expected);
    let ParsedSegment { frames: read, valid_len, torn_tail: torn, damage, .. } =
        parse_segment(&frame);
    assert_eq!(payloads(&read), [b"abc".to_vec()]);
    assert_eq!((valid_len, torn, damage.len()), (15, None, 0));
}

#[test]
fn every_cut_of_the_last_frame_is_a_torn_tail_and_keeps_the_frames_before() {
    let whole = frames(&[b"one", b"two", b"three, the last"]);
    let last_start = whole.len() - (FRAME_HEADER_LEN + 15);
    for cut in last_start + 1..whole.len() {
        let ParsedSegment { frames: read, valid_len, torn_tail: torn, damage, .. } =
            parse_segment(&whole[..cut]);
        assert_eq!(payloads(&read), [b"one".to_vec(), b"two".to_vec()], "cut at {cut}");
        assert_eq!(valid_len, last_start as u64);
        assert_eq!(torn, Some((cut - last_start) as u64));
        assert!(damage.is_empty(), "cut at {cut}: {damage:?}");
    }
}

#[test]
fn zeros_after_the_last_frame_and_a_last_frame_that_fails_are_torn_not_damage() {
    let mut zeros = frames(&[b"kept"]);
    zeros.extend_from_slice(&[0u8; 40]);
    let ParsedSegment { frames: read, torn_tail: torn, damage, .. } = parse_segment(&zeros);
    assert_eq!((read.len(), torn, damage.len()), (1, Some(40), 0));
    let mut garbled = frames(&[b"kept", b"in flight"]);
    let last = garbled.len() - 1;
    garbled[last] ^= 0xff;
    let ParsedSegment { frames: read, torn_tail: torn, damage, .. } = parse_segment(&garbled);
    assert_eq!((read.len(), torn.is_some(), damage.len()), (1, true, 0));
}

#[test]
fn every_changed_byte_of_a_middle_frame_is_damage_and_the_others_are_read() {
    let whole = frames(&[b"first", b"middle frame", b"last"]);
    let middle = FRAME_HEADER_LEN + 5;
    for position in middle..middle + FRAME_HEADER_LEN + 12 {
        let mut changed = whole.clone();
        changed[position] ^= 0x01;
        let ParsedSegment { frames: read, torn_tail: torn, damage, .. } = parse_segment(&changed);
        assert_eq!(
            payloads(&read),
            [b"first".to_vec(), b"last".to_vec()],
            "byte {position} changed"
        );
        assert_eq!(damage.len(), 1, "byte {position}: {damage:?}");
        assert_eq!(damage[0].offset, middle as u64);
        assert_eq!(torn, None);
    }
}

#[test]
fn a_payload_over_the_limit_is_refused() {
    let big = vec![0u8; MAX_FRAME_PAYLOAD as usize + 1];
    assert_eq!(encode_frame(&big), Err(FrameTooLarge { len: big.len() }));
}

#[test]
fn an_append_goes_after_the_generation_read_and_a_changed_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.seg");
    let lock = crate::FileLock::lock(&dir.path().join("s.lock"), std::time::Duration::from_secs(1))
        .unwrap();
    let config = crate::ReplaceConfig { durability: Durability::Full, backup: crate::Backup::None };
    crate::replace_locked(&path, &encode_frame(b"a").unwrap(), &config, &lock).unwrap();
    let read = read_segment(&path, 1 << 20).unwrap().unwrap();
    let mut writer = SegmentWriter::open(&path, &read.identity).unwrap();
    writer.append(&encode_frame(b"b").unwrap(), &lock, Durability::Full).unwrap();
    writer.append(&encode_frame(b"c").unwrap(), &lock, Durability::Full).unwrap();
    let read_again = read_segment(&path, 1 << 20).unwrap().unwrap();
    assert_eq!(payloads(&read_again.frames), [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert!(read_again.is_clean());
    assert!(matches!(SegmentWriter::open(&path, &read.identity), Err(Error::Changed { .. })));
}

proptest! {
    #[test]
    fn frames_round_trip_and_a_cut_anywhere_loses_only_what_follows_it(
        payloads_in in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
        cut_fraction in 0.0f64..=1.0,
    ) {
        let refs: Vec<&[u8]> = payloads_in.iter().map(Vec::as_slice).collect();
        let bytes = frames(&refs);
        let ParsedSegment { frames: read, valid_len, torn_tail: torn, damage, .. } = parse_segment(&bytes);
        prop_assert_eq!(payloads(&read), payloads_in.clone());
        prop_assert_eq!((valid_len as usize, torn, damage.len()), (bytes.len(), None, 0));
        let cut = (bytes.len() as f64 * cut_fraction) as usize;
        let ParsedSegment { frames: read, valid_len, damage, .. } = parse_segment(&bytes[..cut]);
        prop_assert!(damage.is_empty());
        let whole_before_cut = read.iter().all(|frame| {
            frame.offset as usize + FRAME_HEADER_LEN + frame.payload.len() <= cut
        });
        prop_assert!(whole_before_cut);
        prop_assert!(valid_len as usize <= cut);
        for (got, expected) in read.iter().zip(&payloads_in) {
            prop_assert_eq!(&got.payload, expected);
        }
    }
}
