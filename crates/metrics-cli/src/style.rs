//! Colour and number formatting for people: colour only on a terminal and never when
//! `NO_COLOR` is set (<https://no-color.org>).

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

/// Paints text when colour is wanted, and passes it through otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Painter {
    enabled: bool,
}

impl Painter {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset or empty.
    pub(crate) fn for_stdout() -> Painter {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Painter { enabled: !no_color && std::io::stdout().is_terminal() }
    }

    fn paint(self, style: Style, text: &str) -> String {
        if self.enabled {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn heading(self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    pub(crate) fn dim(self, text: &str) -> String {
        self.paint(Style::new().dimmed(), text)
    }

    pub(crate) fn good(self, text: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), text)
    }

    pub(crate) fn bad(self, text: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), text)
    }

    pub(crate) fn warn(self, text: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default(), text)
    }

    /// A status word, coloured by outcome, padded to `width` before painting.
    pub(crate) fn status(self, status: &str, width: usize) -> String {
        let padded = format!("{status:<width$}");
        match status {
            "success" | "complete" => self.good(&padded),
            "error" | "timeout" => self.bad(&padded),
            "blocked" | "continue" => self.warn(&padded),
            _ => padded,
        }
    }
}

/// `980`, `12.3k`, `4.6M`.
pub(crate) fn count(value: u64) -> String {
    match value {
        0..1_000 => value.to_string(),
        1_000..1_000_000 => format!("{:.1}k", value as f64 / 1e3),
        _ => format!("{:.1}M", value as f64 / 1e6),
    }
}

/// `$0.0441`, `$12.35`; never `$-0.0000` (a float sum that starts at `-0.0`, or a negative
/// amount that rounds to nothing, is shown as zero).
pub(crate) fn usd(value: f64) -> String {
    let value = if value.abs() < 0.00005 { 0.0 } else { value };
    if value < 1.0 { format!("${value:.4}") } else { format!("${value:.2}") }
}

/// `text` with every control character (an escape sequence's ESC, BEL, a newline, C1
/// controls) shown escaped (`\u{1b}`, `\n`), so that a string from the store or from the
/// user can never move the cursor, set the terminal's title or break a table. Everything
/// else is kept as it is.
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if ch.is_control() {
            shown.extend(ch.escape_default());
        } else {
            shown.push(ch);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Cuts `text` (made [`safe`] first) to `width` characters, marking the cut with `…`.
pub(crate) fn fit(text: &str, width: usize) -> String {
    let text = safe(text);
    if text.chars().count() <= width {
        text.into_owned()
    } else {
        let kept: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::{Painter, count, fit, safe, usd};

    #[test]
    fn control_characters_are_shown_escaped_never_sent() {
        let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[31mRED\nline\u{9b}2J";
        let shown = safe(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(shown, "\\u{1b}]0;pwned\\u{7}\\u{1b}[31mRED\\nline\\u{9b}2J");
        assert_eq!(safe("plain ünïcode 名前"), "plain ünïcode 名前");
        assert!(!fit(hostile, 12).chars().any(char::is_control));
    }

    #[test]
    fn no_negative_zero_dollars() {
        assert_eq!(usd(-0.0), "$0.0000");
        assert_eq!(usd(-0.00001), "$0.0000");
    }

    #[test]
    fn colour_only_when_enabled() {
        let on = Painter { enabled: true };
        assert_eq!(on.good("ok"), "\u{1b}[32mok\u{1b}[0m");
        assert_eq!(
            on.status("error", 7),
            "\u{1b}[31merror  \u{1b}[0m",
            "padding goes inside the colour"
        );
        let off = Painter { enabled: false };
        assert_eq!(off.status("error", 7), "error  ");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(count(980), "980");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(4_600_000), "4.6M");
        assert_eq!(usd(0.0441), "$0.0441");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(fit("a-very-long-agent-name", 8), "a-very-…");
        assert_eq!(fit("short", 8), "short");
    }
}
