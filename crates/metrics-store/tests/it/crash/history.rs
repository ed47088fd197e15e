//! Longer histories, sampled with a seed.
