//! Many writers (threads and processes) replacing one file under the lock while readers loop
//! without a lock: every read is one whole generation, generations never go backwards, and no
//! increment is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::child::{increment, parse_generation, spawn};

#[test]
fn readers_see_whole_generations_and_no_update_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data");
    let lock = dir.path().join("data.lock");
    let (n_processes, n_threads, per_writer) = (3u64, 2u64, 40u64);

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (target, done) = (target.clone(), done.clone());
            std::thread::spawn(move || {
                let (mut reads, mut last) = (0u64, 0u64);
                while !done.load(Ordering::Relaxed) {
                    if let Some(contents) = atomic_fs::read(&target, 1 << 20).unwrap() {
                        let number =
                            parse_generation(&contents.bytes).expect("a torn or mixed read");
                        assert!(number >= last, "generation went backwards: {last} then {number}");
                        last = number;
                        reads += 1;
                    }
                }
                reads
            })
        })
        .collect();

    let args: Vec<[String; 4]> = (0..n_processes)
        .map(|writer| {
            [
                target.display().to_string(),
                lock.display().to_string(),
                writer.to_string(),
                per_writer.to_string(),
            ]
        })
        .collect();
    let children: Vec<_> = args
        .iter()
        .map(|args| spawn("increment", &args.iter().map(String::as_str).collect::<Vec<_>>()))
        .collect();
    let threads: Vec<_> = (0..n_threads)
        .map(|idx| {
            let (target, lock) = (target.clone(), lock.clone());
            std::thread::spawn(move || {
                for _ in 0..per_writer {
                    increment(&target, &lock, 100 + idx as u32);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    done.store(true, Ordering::Relaxed);
    let reads: u64 = readers.into_iter().map(|reader| reader.join().unwrap()).sum();

    let final_contents = atomic_fs::read(&target, 1 << 20).unwrap().unwrap();
    assert_eq!(
        parse_generation(&final_contents.bytes),
        Some((n_processes + n_threads) * per_writer)
    );
    assert!(reads > 0, "the readers read something");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
