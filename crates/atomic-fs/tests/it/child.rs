//! The roles a re-executed test binary plays, and the helpers that start it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig};

pub(crate) const FULL: ReplaceConfig =
    ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };

/// Starts this binary as a child playing `role` with `args`, and waits until it prints
/// `ready`.
pub(crate) fn spawn(role: &str, args: &[&str]) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child::entry", "--nocapture", "--test-threads=1", "--quiet"])
        .env("ATOMIC_FS_CHILD", role)
        .env("ATOMIC_FS_ARGS", args.join("\n"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if line.trim() == "ready" {
            return child;
        }
        line.clear();
    }
    let status = child.wait().unwrap();
    panic!("child {role} exited ({status}) before it was ready");
}

/// Content of generation `number` by `writer`: a header and a body whose length and byte both
/// depend on the generation, so a torn read cannot look whole.
pub(crate) fn generation(writer: u32, number: u64) -> Vec<u8> {
    let len = 1000 + (number as usize * 7919) % 60_000;
    let byte = b'a' + (number % 26) as u8;
    let mut bytes = format!("{writer} {number} {len}\n").into_bytes();
    bytes.resize(bytes.len() + len, byte);
    bytes
}

/// Parses a generation, returning its number, or `None` if it is not whole.
pub(crate) fn parse_generation(bytes: &[u8]) -> Option<u64> {
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..newline]).ok()?;
    let mut fields = header.split(' ');
    let (_writer, number, len) =
        (fields.next()?, fields.next()?.parse::<u64>().ok()?, fields.next()?);
    let body = &bytes[newline + 1..];
    let byte = b'a' + (number % 26) as u8;
    (body.len() == len.parse::<usize>().ok()? && body.iter().all(|b| *b == byte)).then_some(number)
}

/// Under the lock: read the counter generation, write the next. Returns the new number.
pub(crate) fn increment(target: &Path, lock: &Path, writer: u32) -> u64 {
    let _guard = FileLock::lock(lock, Duration::from_secs(30)).unwrap();
    let current = atomic_fs::read(target, 1 << 20).unwrap();
    let number =
        current.map_or(0, |contents| parse_generation(&contents.bytes).expect("whole generation"));
    atomic_fs::replace(target, &generation(writer, number + 1), &FULL).unwrap();
    number + 1
}

#[test]
fn entry() {
    let Ok(role) = std::env::var("ATOMIC_FS_CHILD") else { return };
    let args = std::env::var("ATOMIC_FS_ARGS").unwrap();
    let args: Vec<&str> = args.split('\n').collect();
    let mut stdout = std::io::stdout();
    match role.as_str() {
        "hold-lock" => {
            let _guard = FileLock::lock(Path::new(args[0]), Duration::from_secs(10)).unwrap();
            writeln!(stdout, "ready").unwrap();
            stdout.flush().unwrap();
            let hold_ms: u64 = args[1].parse().unwrap();
            std::thread::sleep(Duration::from_millis(hold_ms));
        }
        "increment" => {
            writeln!(stdout, "ready").unwrap();
            stdout.flush().unwrap();
            let (target, lock) = (Path::new(args[0]), Path::new(args[1]));
            let (writer, count): (u32, u64) = (args[2].parse().unwrap(), args[3].parse().unwrap());
            for _ in 0..count {
                increment(target, lock, writer);
            }
        }
        other => panic!("unknown child role {other}"),
    }
    std::process::exit(0);
}
