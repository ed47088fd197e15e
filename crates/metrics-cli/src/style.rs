//! Colour and number formatting for people. Whether to colour is `anstream`'s decision
//! (`--color`, then `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`, and whether standard
//! output is a terminal); cell widths are display widths (`unicode-width`), so wide characters
//! keep the columns aligned.

use anstyle::{AnsiColor, Style};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Paints text when colour is wanted, and passes it through otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Painter {
    enabled: bool,
}

impl Painter {
    /// Colour as `--color` (`choice`) and the environment decide for standard output.
    pub(crate) fn for_stdout(choice: crate::cli::ColorArg) -> Painter {
        let choice = match choice {
            crate::cli::ColorArg::Auto => anstream::ColorChoice::Auto,
            crate::cli::ColorArg::Always => anstream::ColorChoice::Always,
            crate::cli::ColorArg::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
        let resolved = anstream::AutoStream::choice(&std::io::stdout());
        Painter { enabled: resolved != anstream::ColorChoice::Never }
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

/// `980`, `12.3k`, `4.6M`, `20.0B`: the unit chosen after rounding, so 999,960 is `1.0M`,
/// not `1000.0k`.
pub(crate) fn count(value: u64) -> String {
    if value < 1_000 {
        return value.to_string();
    }
    let value = value as f64;
    for (unit, scale) in [("k", 1e3), ("M", 1e6), ("B", 1e9)] {
        if (value / scale * 10.0).round() < 10_000.0 {
            return format!("{:.1}{unit}", value / scale);
        }
    }
    format!("{:.1}T", value / 1e12)
}

/// `1 session`, `2 sessions`; `plural(1, "entry", "entries")` is `1 entry`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `$0.0441`, `$12.35`; never `$-0.0000` (a float sum that starts at `-0.0`, or a negative
/// amount that rounds to nothing, is shown as zero).
pub(crate) fn usd(value: f64) -> String {
    let value = if value.abs() < 0.00005 { 0.0 } else { value };
    if value < 1.0 { format!("${value:.4}") } else { format!("${value:.2}") }
}

/// `text` with every control character (an escape sequence's ESC, BEL, a newline, C1
/// controls) and every format character (Unicode category Cf: the bidi overrides and
/// isolates, zero-width joiners, soft hyphens) shown escaped (`\u{1b}`, `\n`, `\u{202e}`),
/// so that a string from the store or from the user can never move the cursor, set the
/// terminal's title, break a table, display reversed or pass for another name. Everything
/// else is kept as it is.
pub(crate) fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if is_hidden(ch) {
            shown.extend(ch.escape_default());
        } else {
            shown.push(ch);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// A character that acts on the terminal or on how text around it displays, rather than
/// showing itself: a control (Cc) or a format character (Cf).
fn is_hidden(ch: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    ch.is_control() || ch.general_category() == GeneralCategory::Format
}

/// `text` (made [`safe`] first) cut to `width` display columns, the cut marked with `…`. A
/// CJK character counts two columns, a combining mark none.
pub(crate) fn fit(text: &str, width: usize) -> String {
    let text = safe(text);
    if text.width() <= width {
        return text.into_owned();
    }
    let mut kept = String::with_capacity(width + 4);
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        kept.push(ch);
        used += w;
    }
    kept.push('…');
    kept
}

/// A left-aligned table cell: [`fit`], then padded with spaces to exactly `width` display
/// columns (format strings pad by characters, which misaligns wide characters).
pub(crate) fn cell(text: &str, width: usize) -> String {
    let mut cell = fit(text, width);
    let used = cell.width();
    cell.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    cell
}

/// The terminal's width in columns (standard output's, else `COLUMNS`, else 80).
pub(crate) fn terminal_width() -> usize {
    if let Some((terminal_size::Width(width), _)) = terminal_size::terminal_size() {
        return usize::from(width);
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|w| *w > 0).unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::{Painter, cell, count, fit, safe, usd};

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
    fn bidi_and_other_format_characters_are_shown_escaped() {
        // "admin" spelt backwards behind a right-to-left override displays as "admin".
        let spoof =
            "\u{202e}nimda\u{202c} \u{2066}x\u{2069} zero\u{200b}width soft\u{ad}hyphen \u{feff}";
        let shown = safe(spoof);
        assert_eq!(
            shown,
            "\\u{202e}nimda\\u{202c} \\u{2066}x\\u{2069} zero\\u{200b}width soft\\u{ad}hyphen \\u{feff}"
        );
        assert!(!fit(spoof, 10).contains('\u{202e}'));
        assert_eq!(safe("عربي עברית"), "عربي עברית", "right-to-left letters themselves are kept");
    }

    #[test]
    fn counts_pick_their_unit_after_rounding_and_nouns_their_number() {
        use super::plural;
        assert_eq!(count(999), "999");
        assert_eq!(count(999_960), "1.0M");
        assert_eq!(count(19_999_900_000), "20.0B");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(plural(1, "session", "sessions"), "1 session");
        assert_eq!(plural(0, "entry", "entries"), "0 entries");
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

    #[test]
    fn cells_are_measured_in_display_columns() {
        use unicode_width::UnicodeWidthStr;
        assert_eq!(cell("short", 8), "short   ");
        // Three CJK characters are six columns wide.
        assert_eq!(cell("日本語", 8), "日本語  ");
        assert_eq!(cell("日本語エージェント", 8).width(), 8);
        assert_eq!(cell("日本語エージェント", 8), "日本語… ");
        assert_eq!(cell("e\u{301}tude", 6), "e\u{301}tude ", "a combining accent takes no column");
    }
}
