//! `AgentProfile`: an agent's lifetime totals and the display fields derived from them.

use crate::Timestamp;
use crate::event::non_negative;

wire_struct! {
    /// One agent's lifetime record: totals that survive event eviction, plus display fields
    /// (rates, averages, XP and level, streaks, badges) derived from them.
    ///
    /// Profiles are created and updated only by [`crate::DashboardState::record_event`].
    /// Derived fields written by another tool are kept as they are until that agent's next
    /// event, when they are recomputed.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AgentProfile {
        agent_name: String = default,
        total_invocations: i64 = default,
        successful_invocations: i64 = default,
        failed_invocations: i64 = default,
        total_tokens: i64 = default,
        total_cost_usd: f64 = default,
        total_duration_seconds: f64 = default,
        success_rate: f64 = default,
        avg_duration_seconds: f64 = default,
        avg_tokens_per_call: f64 = default,
        cost_per_success_usd: f64 = default,
        xp: i64 = default,
        level: i64 = (1),
        current_streak: i64 = default,
        best_streak: i64 = default,
        achievements: Vec<String> = default,
        strengths: Vec<String> = default,
        weaknesses: Vec<String> = default,
        recent_events: Vec<String> = default,
        last_active: Option<Timestamp> = default,
    }
}

impl AgentProfile {
    pub(crate) fn named(agent_name: &str) -> AgentProfile {
        AgentProfile { agent_name: agent_name.to_owned(), level: 1, ..AgentProfile::default() }
    }

    /// The agent's name (equal to its key in `agents`).
    pub fn agent_name(&self) -> &str {
        &self.agent_name
    }
    /// Every event ever recorded for the agent.
    pub fn total_invocations(&self) -> u64 {
        non_negative(self.total_invocations)
    }
    /// Events with status `success`.
    pub fn successful_invocations(&self) -> u64 {
        non_negative(self.successful_invocations)
    }
    /// Events with any other status.
    pub fn failed_invocations(&self) -> u64 {
        non_negative(self.failed_invocations)
    }
    /// Lifetime tokens.
    pub fn total_tokens(&self) -> u64 {
        non_negative(self.total_tokens)
    }
    /// Lifetime estimated cost in US dollars.
    pub fn total_cost_usd(&self) -> f64 {
        self.total_cost_usd
    }
    /// Lifetime wall-clock seconds.
    pub fn total_duration_seconds(&self) -> f64 {
        self.total_duration_seconds
    }
    /// Successful / total invocations, from 0 to 1.
    pub fn success_rate(&self) -> f64 {
        self.success_rate
    }
    /// Mean seconds per invocation.
    pub fn avg_duration_seconds(&self) -> f64 {
        self.avg_duration_seconds
    }
    /// Mean tokens per invocation.
    pub fn avg_tokens_per_call(&self) -> f64 {
        self.avg_tokens_per_call
    }
    /// Lifetime cost divided by successful invocations (0 before the first success).
    pub fn cost_per_success_usd(&self) -> f64 {
        self.cost_per_success_usd
    }
    /// Experience points: 10 per success plus the streak length at that success.
    pub fn xp(&self) -> u64 {
        non_negative(self.xp)
    }
    /// Level from 1 to 8, see [`crate::Level`].
    pub fn level(&self) -> u64 {
        non_negative(self.level)
    }
    /// Consecutive successes up to the latest event.
    pub fn current_streak(&self) -> u64 {
        non_negative(self.current_streak)
    }
    /// The longest streak ever.
    pub fn best_streak(&self) -> u64 {
        non_negative(self.best_streak)
    }
    /// Badges earned, in the order earned; never removed.
    pub fn achievements(&self) -> &[String] {
        &self.achievements
    }
    /// What the agent is good at, recomputed at each of its events.
    pub fn strengths(&self) -> &[String] {
        &self.strengths
    }
    /// What the agent is bad at, recomputed at each of its events.
    pub fn weaknesses(&self) -> &[String] {
        &self.weaknesses
    }
    /// Ids of the agent's latest events, oldest first, at most
    /// [`crate::RECENT_EVENTS_LIMIT`].
    pub fn recent_events(&self) -> &[String] {
        &self.recent_events
    }
    /// When the agent's latest event ended.
    pub fn last_active(&self) -> Option<Timestamp> {
        self.last_active
    }
}
