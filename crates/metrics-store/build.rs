//! Build script: finds out whether the tests may mount a small tmpfs (root, and a `mount`
//! command), so that the real full-disk test is reported as ignored, with the reason, where
//! it cannot run, instead of passing without having run.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_tmpfs_mount)");
    println!("cargo::rerun-if-env-changed=PATH");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.trim_ascii() == b"0");
    let mount = std::process::Command::new("mount")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !(root && mount) {
        println!("cargo::rustc-cfg=no_tmpfs_mount");
    }
}
