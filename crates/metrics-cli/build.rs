//! Build script: finds out whether `python3` runs here, so that the tests which need it (the
//! Python dashboard beside us, `status --watch` in a pty) are reported as ignored, with the
//! reason, where it does not, instead of passing without having run.

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
}
