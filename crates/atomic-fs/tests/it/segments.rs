//! Segments on the simulated disk: a crash after every step of creating a segment and
//! appending frames, with every loss pattern, leaves every acknowledged frame readable, in
//! order, with at most a torn tail after it (never damage); and a disk whose flush does
//! nothing loses an acknowledged frame, which the check catches.

use std::time::Duration;

use atomic_fs::segment::{ParsedSegment, SegmentWriter, encode_frame, parse_segment, read_segment};
use atomic_fs::sim::{Lie, Simulation, StepKind};
use atomic_fs::{FileLock, replace_locked};

use crate::child::FULL;

/// Frame `n`: over a sector, so that a torn write shows.
fn payload(n: usize) -> Vec<u8> {
    format!("frame {n} ").repeat(80).into_bytes()
}

/// Creates a segment with frame 0, appends frames 1 to 3 on the simulation, and checks every
/// crash image; returns the number of images or the first violation.
fn crash_suite(lie: Option<Lie>) -> Result<usize, String> {
    let dir = tempfile::tempdir().unwrap();
    let lock = FileLock::lock(&dir.path().join("s.lock"), Duration::from_secs(1)).unwrap();
    let path = dir.path().join("s.seg");
    let simulation = Simulation::new(dir.path()).unwrap();
    simulation.set_lie(lie);
    let installed = simulation.install();
    replace_locked(&path, &encode_frame(&payload(0)).unwrap(), &FULL, &lock).unwrap();
    simulation.mark("acknowledged 1");
    let read = read_segment(&path, 1 << 20).unwrap().unwrap();
    let mut writer = SegmentWriter::open(&path, &read.identity).unwrap();
    for n in 1..=3 {
        let frame = encode_frame(&payload(n)).unwrap();
        writer.append(&frame, &lock, atomic_fs::Durability::Full).unwrap();
        simulation.mark(&format!("acknowledged {}", n + 1));
    }
    drop(installed);
    simulation.check_page_cache()?;
    let mut acknowledged = 0usize;
    let mut images = 0;
    for crash in simulation.crashes() {
        if let Some(step) = &crash.after
            && let StepKind::Mark { label } = &step.kind
        {
            acknowledged = label.split(' ').nth(1).unwrap().parse().unwrap();
        }
        for image in &crash.images {
            images += 1;
            let bytes = image.read("s.seg").unwrap_or_default();
            let ParsedSegment { frames, damage, .. } = parse_segment(bytes);
            let got: Vec<Vec<u8>> = frames.into_iter().map(|frame| frame.payload).collect();
            let expected: Vec<Vec<u8>> = (0..got.len()).map(payload).collect();
            let after = crash.after.as_ref().map_or("the start".to_owned(), ToString::to_string);
            if got != expected || got.len() < acknowledged || !damage.is_empty() {
                return Err(format!(
                    "crash after {after}: {} frames read ({} damaged ranges), {acknowledged} acknowledged",
                    got.len(),
                    damage.len()
                ));
            }
        }
    }
    Ok(images)
}

#[test]
fn every_crash_of_creating_and_appending_leaves_every_acknowledged_frame() {
    let images = crash_suite(None).unwrap();
    assert!(images > 20, "{images} crash images checked");
}

#[test]
fn a_disk_that_does_not_flush_loses_an_acknowledged_frame_and_is_caught() {
    let violation = crash_suite(Some(Lie::AppendsAreNotFlushed)).expect_err("must be caught");
    assert!(violation.contains("acknowledged"), "{violation}");
}
