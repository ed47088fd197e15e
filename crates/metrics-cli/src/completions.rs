//! Shell completion scripts: clap_complete's, mended where it fails `agent-metrics`.
//!
//! Two known problems of the generated scripts are worked around here, each on the text the
//! generator wrote (and each with a test that fails without it):
//!
//! - bash: for a binary name with a hyphen, the generator names its states
//!   `agent__metrics__subcmd__events` where it sets them and `agent__subcmd__metrics__subcmd__events`
//!   where it matches them, so nothing completes after the first word;
//! - every shell: the hidden subcommand (`demo-worker`, internal) is offered.

use clap::CommandFactory;
use clap_complete::Shell;

/// The completion script for `shell`.
pub(crate) fn script(shell: Shell) -> String {
    let mut command = crate::cli::Cli::command();
    let hidden: Vec<String> = command
        .get_subcommands()
        .filter(|sub| sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect();
    let mut generated = Vec::new();
    clap_complete::generate(shell, &mut command, "agent-metrics", &mut generated);
    let generated = String::from_utf8_lossy(&generated).into_owned();
    mend(shell, &generated, &hidden)
}

/// The generated script with its state names made consistent (bash) and the hidden
/// subcommands no longer offered.
fn mend(shell: Shell, generated: &str, hidden: &[String]) -> String {
    let text = match shell {
        Shell::Bash => generated.replace("agent__subcmd__metrics", "agent__metrics"),
        _ => generated.to_owned(),
    };
    let mut mended = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        let offers_hidden = |name: &String| match shell {
            // At the top level and after `help`.
            Shell::Fish => line.contains(&format!("-a \"{name}\"")),
            Shell::Zsh => trimmed.starts_with(&format!("'{name}:")),
            _ => false,
        };
        if hidden.iter().any(offers_hidden) {
            continue;
        }
        if shell == Shell::Bash && trimmed.starts_with("opts=\"") {
            let kept: Vec<&str> = line
                .split(' ')
                .filter(|word| !hidden.iter().any(|name| word.trim_end_matches('"') == name))
                .collect();
            let mut joined = kept.join(" ");
            if line.ends_with('"') && !joined.ends_with('"') {
                joined.push('"');
            }
            mended.push_str(&joined);
        } else {
            mended.push_str(line);
        }
        mended.push('\n');
    }
    mended
}

#[cfg(test)]
mod tests {
    use clap_complete::Shell;

    use super::script;

    #[test]
    fn hidden_commands_are_not_offered() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell);
            let offers = |name: &str| match shell {
                Shell::Bash => {
                    text.lines().any(|l| l.trim_start().starts_with("opts=") && l.contains(name))
                }
                Shell::Zsh => {
                    text.lines().any(|l| l.trim_start().starts_with(&format!("'{name}:")))
                }
                _ => text.lines().any(|l| l.contains(&format!("-a \"{name}\""))),
            };
            assert!(!offers("demo-worker"), "{shell} offers the hidden demo-worker");
            assert!(offers("record"), "{shell} still offers the visible commands");
        }
    }

    #[test]
    fn bash_state_names_agree() {
        assert!(!script(Shell::Bash).contains("agent__subcmd__metrics"));
    }
}
