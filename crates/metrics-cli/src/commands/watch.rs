//! `status --watch`: the status on the terminal's alternate screen, redrawn whenever the
//! store changes (its `ChangeMarker`: two `stat` calls every 200 ms, a read only on a change)
//! or the terminal is resized; `q`, Esc or Ctrl-C quits. Raw mode and the alternate screen
//! come from crossterm, and a guard restores the terminal on every way out, errors included.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};

use crate::commands::{Context, show};
use crate::error::CliError;

/// How often the store's identity is compared.
const TICK: Duration = Duration::from_millis(200);

/// Puts the terminal back (main screen, cursor, cooked mode) when dropped.
struct Screen;

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        terminal::enable_raw_mode()?;
        let screen = Screen;
        execute!(std::io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(std::io::stdout(), cursor::Show, terminal::LeaveAlternateScreen);
        let _ = terminal::disable_raw_mode();
    }
}

pub(crate) fn run(context: &mut Context, limit: usize) -> Result<String, CliError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::Usage {
            message:
                "status --watch needs a terminal; without one, run `status` (or `serve`) instead"
                    .to_owned(),
        });
    }
    let store = context.open_store()?;
    let screen = Screen::enter().map_err(CliError::Stdout)?;
    let mut last = None;
    let mut redraw = true;
    loop {
        let marker = store.change_marker()?;
        if redraw || last != Some(marker) {
            last = Some(marker);
            draw(context, limit)?;
            redraw = false;
        }
        if !event::poll(TICK).map_err(CliError::Stdin)? {
            continue;
        }
        match event::read().map_err(CliError::Stdin)? {
            Event::Key(key) if quits(key) => break,
            Event::Resize(..) => redraw = true,
            _ => {}
        }
    }
    drop(screen);
    Ok(String::new())
}

fn quits(key: KeyEvent) -> bool {
    key.kind == KeyEventKind::Press
        && (matches!(key.code, KeyCode::Char('q') | KeyCode::Esc)
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)))
}

/// One frame: the status as `status` prints it (errors, such as no store yet, shown in its
/// place), then a footer.
fn draw(context: &mut Context, limit: usize) -> Result<(), CliError> {
    let body = match show::status(context, false, limit) {
        Ok(text) => text,
        Err(err) => format!("{}\n", crate::style::safe(&err.to_string())),
    };
    // Notes (a fallback to the backup, journal damage) are shown in the frame, not after it.
    let notes: Vec<String> =
        context.notes.drain(..).map(|note| crate::style::safe(&note).into_owned()).collect();
    let now = crate::clock::now().instant().strftime("%H:%M:%S UTC").to_string();
    let footer = context.painter.dim(&format!(
        "watching {} · redrawn {now} on every change · q to quit",
        crate::style::safe(&context.store_path.display().to_string())
    ));
    let mut frame = String::new();
    for line in notes.iter().map(String::as_str).chain(body.lines()).chain(["", &footer]) {
        // Raw mode: a line feed does not return the carriage.
        frame.push_str(line);
        frame.push_str("\r\n");
    }
    let mut out = std::io::stdout().lock();
    execute!(out, terminal::Clear(terminal::ClearType::All), cursor::MoveTo(0, 0))
        .map_err(CliError::Stdout)?;
    out.write_all(frame.as_bytes()).map_err(CliError::Stdout)?;
    out.flush().map_err(CliError::Stdout)
}
