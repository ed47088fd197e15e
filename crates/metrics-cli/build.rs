//! Build script: finds out whether `python3` runs here, so that the tests which need it (the
//! Python dashboard beside us, `status --watch` in a pty) are reported as ignored, with the
//! reason, where it does not, instead of passing without having run; and whether the tests
//! run as root with `runuser` (needed to plant a file as another user).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_python3)");
    println!("cargo::rerun-if-env-changed=PATH");
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        println!("cargo::rustc-cfg=no_python3");
    }
    println!("cargo::rustc-check-cfg=cfg(no_runuser_as_root)");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0");
    let runuser = std::process::Command::new("runuser").arg("--help").output().is_ok();
    if !(root && runuser) {
        println!("cargo::rustc-cfg=no_runuser_as_root");
    }
}
