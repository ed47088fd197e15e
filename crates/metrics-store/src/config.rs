//! `StoreBuilder`: the settings of a store handle, and the paths of its files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use metrics_types::Limits;

use crate::journal::CheckpointPolicy;
use crate::{MetricsStore, StoreError};

/// The metrics file's name when only a directory is given.
pub const DEFAULT_FILE_NAME: &str = ".agent_metrics.json";
/// How long an update waits for the lock unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// Files larger than this are refused rather than read into memory (64 MiB); writes stop at
/// half of it.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Whether writes are flushed to disk before an update returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flush the file and its directory: a successful update survives a crash or power loss.
    Full,
    /// **For tests and benchmarks only.** No fsync: atomic for readers and process crashes, but
    /// a power loss can lose recent updates.
    NoSyncTestsOnly,
}

/// Settings for [`MetricsStore`]; start with [`MetricsStore::builder`].
#[derive(Debug, Clone)]
pub struct StoreBuilder {
    path: PathBuf,
    config: Config,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) limits: Limits,
    pub(crate) lock_timeout: Duration,
    pub(crate) durability: Durability,
    pub(crate) project_name: String,
    pub(crate) max_file_size: u64,
    pub(crate) checkpoint: CheckpointPolicy,
}

impl StoreBuilder {
    pub(crate) fn new(path: &Path) -> StoreBuilder {
        StoreBuilder {
            path: path.to_owned(),
            config: Config {
                limits: Limits::DEFAULT,
                lock_timeout: DEFAULT_LOCK_TIMEOUT,
                durability: Durability::Full,
                project_name: String::new(),
                max_file_size: DEFAULT_MAX_FILE_SIZE,
                checkpoint: CheckpointPolicy::default(),
            },
        }
    }

    /// How many events and sessions to keep (default 500 and 50); older ones are evicted.
    pub fn limits(mut self, limits: Limits) -> StoreBuilder {
        self.config.limits = limits;
        self
    }

    /// How long updates wait for the lock (default 10 s); [`MetricsStore::with_lock_timeout`]
    /// overrides it per call.
    pub fn lock_timeout(mut self, timeout: Duration) -> StoreBuilder {
        self.config.lock_timeout = timeout;
        self
    }

    /// Whether to flush to disk (default [`Durability::Full`]).
    pub fn durability(mut self, durability: Durability) -> StoreBuilder {
        self.config.durability = durability;
        self
    }

    /// The project name written into a new file.
    pub fn project_name(mut self, name: &str) -> StoreBuilder {
        name.clone_into(&mut self.config.project_name);
        self
    }

    /// The largest file the store will read (default 64 MiB); a write that would produce
    /// more than half of it is refused.
    pub fn max_file_size(mut self, bytes: u64) -> StoreBuilder {
        self.config.max_file_size = bytes;
        self
    }

    /// When a writer in journal mode folds the journal into the file (default: 64 entries
    /// or 2 seconds, whichever comes first). Whole-file mode ignores it.
    pub fn checkpoint_policy(mut self, policy: CheckpointPolicy) -> StoreBuilder {
        self.config.checkpoint = policy;
        self
    }

    /// Opens the handle. Creates and rewrites nothing until the first update.
    ///
    /// A symbolic link at the path is resolved here, once: the handle works on the file it
    /// points to, so the lock, backup and temporary files live beside the real file and the
    /// link stays a link (dotfiles setups keep their link).
    pub fn open(mut self) -> Result<MetricsStore, StoreError> {
        self.path = resolve_links(&self.path)?;
        let Limits { max_events, max_sessions } = self.config.limits;
        if max_events == 0 || max_sessions == 0 {
            let message = format!(
                "limits must keep at least one event and one session (got {max_events} and {max_sessions})"
            );
            return Err(StoreError::Config { message });
        }
        if self.path.file_name().is_none() {
            let message = format!("{} does not name a file", self.path.display());
            return Err(StoreError::Config { message });
        }
        Ok(MetricsStore::from_parts(self.path, self.config))
    }
}

impl Config {
    /// The largest file a write may produce: half the read limit. The Python dashboard
    /// rewrites the file indented (`json.dump(indent=2)`), which makes it larger, and its
    /// rewrite must still load here.
    pub(crate) fn write_limit(&self) -> u64 {
        self.max_file_size / 2
    }
}

/// The lock file of a store file: `X.lock` for `X.json` (so `.agent_metrics.json` locks
/// `.agent_metrics.lock`, the Python dashboard's `MetricsStore.LOCK_FILE`), `NAME.lock`
/// for any other name.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    with_extension_for_json(path, "lock")
}

/// The journal of a store file in journal mode: `X.journal` for `X.json`, `NAME.journal` for
/// any other name.
pub(crate) fn journal_path(path: &Path) -> PathBuf {
    with_extension_for_json(path, "journal")
}

fn with_extension_for_json(path: &Path, extension: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    match name.strip_suffix(".json") {
        Some(stem) if !stem.is_empty() => path.with_file_name(format!("{stem}.{extension}")),
        _ => sibling(path, &format!(".{extension}")),
    }
}

/// `PATH` with `suffix` appended to its file name: `data.json` → `data.json.lock`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Follows symbolic links at `path` (the final component only, as often as it takes), so the
/// store works on the real file; a path that is not a link comes back unchanged.
///
/// A link is followed only when it is safe: the link and the file it ends at belong to the
/// user running this (or root owns both), the link's directory is not writable by others,
/// and the file exists. Otherwise another user could plant `.agent_metrics.json -> victim`
/// in a shared directory and have our write replace the victim; and a dangling link would
/// create a store wherever it points. See `docs/durability.md`, "Security".
fn resolve_links(path: &Path) -> Result<PathBuf, StoreError> {
    use std::os::unix::fs::MetadataExt;
    let mut resolved = path.to_owned();
    let mut links = Vec::new();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&resolved) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&resolved).map_err(|source| StoreError::Io {
                    path: path.to_owned(),
                    source: atomic_fs::Error::Io {
                        op: atomic_fs::Op::Inspect,
                        path: resolved.clone(),
                        source,
                    },
                })?;
                links.push((resolved.clone(), metadata.uid()));
                resolved = match resolved.parent() {
                    Some(parent) => parent.join(target),
                    None => target,
                };
            }
            found => {
                if !links.is_empty() {
                    let target_owner = found.ok().map(|metadata| metadata.uid());
                    check_links(&links, &resolved, target_owner)?;
                }
                return Ok(resolved);
            }
        }
    }
    let message = format!("{} is a chain of more than 40 symbolic links", path.display());
    Err(StoreError::Config { message })
}

/// Refuses to follow `links` (each with its owner) to `target` (owned by `target_owner`, or
/// missing) unless every rule of [`resolve_links`] holds.
fn check_links(
    links: &[(PathBuf, u32)],
    target: &Path,
    target_owner: Option<u32>,
) -> Result<(), StoreError> {
    use std::os::unix::fs::MetadataExt;
    let refuse =
        |link: &Path, reason: String| Err(StoreError::UnsafeLink { path: link.to_owned(), reason });
    let me = atomic_fs::effective_uid();
    let Some(target_owner) = target_owner else {
        return refuse(
            &links[0].0,
            format!(
                "it points to {}, which does not exist (a dangling link is never created through)",
                target.display()
            ),
        );
    };
    for (link, owner) in links {
        let trusted = (*owner == me && target_owner == me) || (*owner == 0 && target_owner == 0);
        if !trusted {
            return refuse(
                link,
                format!(
                    "the link (owner uid {owner}) and its target {} (owner uid {target_owner}) must both belong to you (uid {me}), or both to root",
                    target.display()
                ),
            );
        }
        let dir = match link.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Ok(metadata) = std::fs::metadata(dir)
            && metadata.mode() & 0o002 != 0
        {
            return refuse(
                link,
                format!(
                    "its directory {} is writable by others, who could replace the link",
                    dir.display()
                ),
            );
        }
    }
    Ok(())
}
