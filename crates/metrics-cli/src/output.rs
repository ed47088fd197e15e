//! Writing to the terminal: the only module that prints. A closed pipe ends quietly.

use std::io::Write;

/// Writes the notes (to standard error) and then the output (to standard output).
pub(crate) fn emit(stdout: &str, notes: &[String]) -> std::io::Result<()> {
    let mut err = std::io::stderr().lock();
    for note in notes {
        // Notes quote store values and paths: never let them reach the terminal raw.
        writeln!(err, "{}", crate::style::safe(note))?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(stdout.as_bytes())?;
    out.flush()
}

/// Reports an error as one line on standard error.
pub(crate) fn report_error(message: &str) {
    let message = crate::style::safe(message);
    let _ = writeln!(std::io::stderr().lock(), "agent-metrics: error: {message}");
}

/// Writes one line to standard output at once (acknowledgements a caller waits for).
pub(crate) fn line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}
