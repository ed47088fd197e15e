//! `Level`: the eight titles an agent climbs through as it earns XP.

/// An agent's rank, earned by XP. The thresholds grow roughly 2.5x per level, so the first
/// levels come within a session and Fellow takes thousands of successes.
///
/// | Level | Title | XP from |
/// |---|---|---|
/// | 1 | Intern | 0 |
/// | 2 | Junior | 50 |
/// | 3 | Mid-Level | 150 |
/// | 4 | Senior | 400 |
/// | 5 | Staff | 1 000 |
/// | 6 | Principal | 2 500 |
/// | 7 | Distinguished | 6 000 |
/// | 8 | Fellow | 15 000 |
///
/// ```
/// use metrics_types::Level;
///
/// assert_eq!(Level::for_xp(0).title(), "Intern");
/// assert_eq!(Level::for_xp(400).number(), 4);
/// assert_eq!(Level::from_number(8).unwrap().title(), "Fellow");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

/// `(minimum XP, title)` for levels 1 to 8.
const LEVELS: [(u64, &str); 8] = [
    (0, "Intern"),
    (50, "Junior"),
    (150, "Mid-Level"),
    (400, "Senior"),
    (1_000, "Staff"),
    (2_500, "Principal"),
    (6_000, "Distinguished"),
    (15_000, "Fellow"),
];

impl Level {
    /// The level an agent with `xp` points has reached.
    pub fn for_xp(xp: u64) -> Level {
        let reached = LEVELS.iter().take_while(|(min_xp, _)| xp >= *min_xp).count();
        Level(reached as u8)
    }

    /// The level with this number, if it is between 1 and 8.
    pub fn from_number(number: u64) -> Option<Level> {
        (1..=LEVELS.len() as u64).contains(&number).then_some(Level(number as u8))
    }

    /// The number, from 1 to 8.
    pub fn number(self) -> u8 {
        self.0
    }

    /// The title, e.g. "Mid-Level".
    pub fn title(self) -> &'static str {
        LEVELS[usize::from(self.0) - 1].1
    }

    /// XP needed for the next level, or `None` at the top.
    pub fn next_threshold(self) -> Option<u64> {
        LEVELS.get(usize::from(self.0)).map(|(min_xp, _)| *min_xp)
    }
}
