//! [`Simulation`]: the seam's file system for crash and fault tests. It performs every call on
//! a real directory (which plays the page cache, so the code under test reads real files),
//! records it, models what is durable, and fails the calls a test asks it to fail.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::crash::{self, CrashImage};
use super::fault::{CallKind, Fault, FaultKind, FaultPlan, SeamCall};
use super::model::{Disk, FileId, Step, StepKind, View};
use crate::sys::{FileSystem, Inspection, RealFileSystem};

thread_local! {
    static INSTALLED: RefCell<Option<Arc<Simulation>>> = const { RefCell::new(None) };
}

/// The simulation installed on this thread, if any.
pub(crate) fn installed() -> Option<Arc<Simulation>> {
    INSTALLED.with_borrow(Clone::clone)
}

/// A simulated disk under one directory. See the [module docs](crate::sim).
#[derive(Debug)]
pub struct Simulation {
    dir: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    initial: View,
    trace: Vec<Step>,
    calls: Vec<SeamCall>,
    faults: FaultPlan,
    lie: Option<Lie>,
    /// With [`Lie::BackupRotatedAfterCommit`]: a rename onto a backup name, made only after
    /// the next rename.
    deferred_rename: Option<(PathBuf, PathBuf)>,
    /// Files opened for appending (journals).
    appended_to: std::collections::HashSet<FileId>,
    /// The simulation's file for each live real inode.
    live: HashMap<(u64, u64), FileId>,
    next_file: u64,
}

/// The possible contents of the disk after a crash at one point of the trace.
#[derive(Debug, Clone)]
pub struct Crash {
    /// How many steps of the trace were made before the crash.
    pub point: usize,
    /// The last step made before the crash (`None` for a crash before the first).
    pub after: Option<Step>,
    /// Every distinct image the crash can leave.
    pub images: Vec<CrashImage>,
}

/// A lie the simulated disk tells the code above it, standing for a bug in that code. A suite
/// that passes with the truthful disk must fail with each lie: that is the proof it can fail,
/// and the production code carries no switch for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lie {
    /// A flush (`fdatasync`) of a file opened for appending returns success and does
    /// nothing: the same as a journal writer that forgot to flush before acknowledging.
    AppendsAreNotFlushed,
    /// A directory flush (`fsync` of the directory) returns success and does nothing: the
    /// same as a writer that never flushes the directory after its commit rename.
    DirectoryFlushesDoNothing,
    /// A flush of a newly created file returns success and does nothing, so its data becomes
    /// durable only by chance: the same as a writer that renames a file over the target before
    /// flushing it.
    NewFilesAreNotFlushed,
    /// A flush that fails (an injected fault) loses its data, as a failed `fdatasync` does,
    /// and returns success: the same as a writer that retries a failed flush and carries on
    /// when the retry "succeeds" (the kernel has already dropped the data).
    FailedFlushesReportSuccess,
    /// A rename onto a backup name (`NAME.bak`) is made only after the next rename: the same
    /// as a writer that rotates its backup after the commit rename instead of before it (the
    /// protocol this workspace had before its crash suite).
    BackupRotatedAfterCommit,
}

impl Lie {
    /// The lies that stand for bugs in [`crate::replace`], for suites that try them all.
    pub const REPLACE_BUGS: [Lie; 4] = [
        Lie::DirectoryFlushesDoNothing,
        Lie::NewFilesAreNotFlushed,
        Lie::FailedFlushesReportSuccess,
        Lie::BackupRotatedAfterCommit,
    ];

    /// Whether the lie shows only after a flush has failed: a suite needs to inject one.
    pub fn needs_a_failed_flush(self) -> bool {
        self == Lie::FailedFlushesReportSuccess
    }
}

/// Keeps a [`Simulation`] installed on this thread until dropped.
#[derive(Debug)]
#[must_use = "the simulation is uninstalled when this guard drops"]
pub struct Installed {
    previous: Option<Arc<Simulation>>,
    /// A thread-local installation must be dropped on its own thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        let previous = self.previous.take();
        INSTALLED.with_borrow_mut(|installed| *installed = previous);
    }
}

impl Simulation {
    /// A simulation of the directory `dir` as it is now, all of it taken as durable (as after
    /// a clean shutdown). Only regular files are taken; `dir` must hold nothing else that the
    /// code under test touches.
    pub fn new(dir: &Path) -> io::Result<Arc<Simulation>> {
        let mut initial = View::default();
        let mut live = HashMap::new();
        let mut next_file = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let metadata = std::fs::symlink_metadata(entry.path())?;
            if !metadata.is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let file = *live.entry((metadata.dev(), metadata.ino())).or_insert_with(|| {
                next_file += 1;
                FileId(next_file - 1)
            });
            initial.names.insert(name, file);
            if let std::collections::btree_map::Entry::Vacant(slot) = initial.contents.entry(file) {
                slot.insert(std::fs::read(entry.path())?);
            }
        }
        let state = State {
            initial,
            trace: Vec::new(),
            calls: Vec::new(),
            faults: FaultPlan::default(),
            lie: None,
            deferred_rename: None,
            appended_to: std::collections::HashSet::new(),
            live,
            next_file,
        };
        Ok(Arc::new(Simulation { dir: dir.to_owned(), state: Mutex::new(state) }))
    }

    /// Routes this thread's `atomic-fs` calls through the simulation until the guard drops.
    pub fn install(self: &Arc<Self>) -> Installed {
        let previous = INSTALLED.with_borrow_mut(|installed| installed.replace(Arc::clone(self)));
        Installed { previous, _not_send: std::marker::PhantomData }
    }

    /// Makes a call fail (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.state().faults.add(fault);
    }

    /// Stops every injected fault: the disk is repaired.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Makes the simulated disk lie (see [`Lie`]): a bug of the code above, played by the
    /// disk, so that the production code carries no switch for it.
    pub fn set_lie(&self, lie: Option<Lie>) {
        self.state().lie = lie;
    }

    /// Adds a marker to the trace, such as "update 3 acknowledged".
    pub fn mark(&self, label: &str) {
        self.record(StepKind::Mark { label: label.to_owned() }, None);
    }

    /// The steps recorded so far: every call that changed the disk, and every failed flush.
    /// Calls that failed otherwise changed nothing and are only in [`Simulation::calls`].
    pub fn trace(&self) -> Vec<Step> {
        self.state().trace.clone()
    }

    /// Every call made through the seam, numbered as [`Fault::call`] counts them.
    pub fn calls(&self) -> Vec<SeamCall> {
        self.state().calls.clone()
    }

    /// For a crash after each step of the trace (and before the first), every image the disk
    /// can be left in.
    pub fn crashes(&self) -> Vec<Crash> {
        let state = self.state();
        let mut disk = Disk::settled(state.initial.clone());
        let mut out = vec![Crash { point: 0, after: None, images: crash::images(&disk) }];
        for step in &state.trace {
            disk.apply(step);
            let images = crash::images(&disk);
            out.push(Crash { point: step.index + 1, after: Some(step.clone()), images });
        }
        out
    }

    /// Checks the model against the real directory: every name the model holds exists with the
    /// same bytes, and every real file the model does not know is empty: only a lock file, made
    /// outside the seam, may be. A failure means the simulation itself is wrong.
    pub fn check_page_cache(&self) -> Result<(), String> {
        let state = self.state();
        let mut disk = Disk::settled(state.initial.clone());
        for step in &state.trace {
            disk.apply(step);
        }
        // A lock file's bytes are `FileLock::write_note`'s advisory note, written outside the
        // seam and outside the durability model (a crash image holds none: a reader then
        // knows less, never more); only their presence is modelled.
        let is_lock_file = |name: &str| name.ends_with(".lock");
        for name in disk.volatile.names.keys().filter(|name| !is_lock_file(name)) {
            let real =
                std::fs::read(self.dir.join(name)).map_err(|err| format!("{name}: {err}"))?;
            if Some(real.as_slice()) != disk.volatile.read(name) {
                return Err(format!("{name}: the model's bytes differ from the real file"));
            }
        }
        for entry in std::fs::read_dir(&self.dir).map_err(|err| err.to_string())? {
            let entry = entry.map_err(|err| err.to_string())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let size = entry.metadata().map_err(|err| err.to_string())?.len();
            if size > 0 && !disk.volatile.names.contains_key(&name) && !is_lock_file(&name) {
                return Err(format!("{name} exists but the model does not know it"));
            }
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, kind: StepKind, failed: Option<&io::Error>) {
        let mut state = self.state();
        let index = state.trace.len();
        state.trace.push(Step { index, kind, failed: failed.map(ToString::to_string) });
    }

    /// Numbers the call and returns the injected error, if it is to fail.
    fn begin(&self, kind: CallKind, name: &str) -> Option<FaultKind> {
        let mut state = self.state();
        let number = state.calls.len();
        state.calls.push(SeamCall { number, kind, name: name.to_owned() });
        state.faults.hit(number, kind)
    }

    /// The name of `path` inside the simulated directory.
    fn name_of(&self, path: &Path) -> String {
        let parent = crate::directory_of(path);
        assert_eq!(
            parent,
            self.dir,
            "the simulation covers {} only, not {}",
            self.dir.display(),
            path.display()
        );
        path.file_name().unwrap_or_default().to_string_lossy().into_owned()
    }

    fn file_id(&self, file: &File) -> io::Result<FileId> {
        let metadata = file.metadata()?;
        let key = (metadata.dev(), metadata.ino());
        let state = self.state();
        Ok(*state.live.get(&key).expect("a file the simulation did not create or find"))
    }

    fn register(&self, file: &File) -> io::Result<FileId> {
        let metadata = file.metadata()?;
        let mut state = self.state();
        let id = FileId(state.next_file);
        state.next_file += 1;
        state.live.insert((metadata.dev(), metadata.ino()), id);
        Ok(id)
    }

    /// Fails or makes a call that changes only names.
    fn name_call(
        &self,
        kind: CallKind,
        name: &str,
        call: impl FnOnce() -> io::Result<()>,
        step: StepKind,
    ) -> io::Result<()> {
        if let Some(fault) = self.begin(kind, name) {
            return Err(fault.error());
        }
        call()?;
        self.record(step, None);
        Ok(())
    }

    /// Makes (or fails) one rename.
    fn rename_now(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_name, to_name) = (self.name_of(from), self.name_of(to));
        let step = StepKind::Rename { from: from_name, to: to_name.clone() };
        self.name_call(CallKind::Rename, &to_name, || RealFileSystem.rename(from, to), step)
    }
}

impl FileSystem for Simulation {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        let name = self.name_of(path);
        if let Some(fault) = self.begin(CallKind::CreateNew, &name) {
            return Err(fault.error());
        }
        let file = RealFileSystem.create_new(path, mode)?;
        let id = self.register(&file)?;
        self.record(StepKind::Create { name, file: id }, None);
        Ok(file)
    }

    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        let id = self.file_id(file)?;
        let offset = file.stream_position()?;
        let fault = self.begin(CallKind::Write, &id.to_string());
        let written = match fault {
            None => bytes,
            Some(FaultKind::ShortWrite) => &bytes[..bytes.len() / 2],
            Some(fault) => return Err(fault.error()),
        };
        RealFileSystem.write_all(file, written)?;
        self.record(StepKind::Write { file: id, offset, bytes: written.to_vec() }, None);
        match fault {
            Some(fault) => Err(fault.error()),
            None => Ok(()),
        }
    }

    fn sync_file(&self, file: &File) -> io::Result<()> {
        let id = self.file_id(file)?;
        let lie = {
            let state = self.state();
            let appended = state.appended_to.contains(&id);
            match state.lie {
                Some(Lie::AppendsAreNotFlushed) if appended => return Ok(()),
                Some(Lie::NewFilesAreNotFlushed) if !appended => return Ok(()),
                lie => lie,
            }
        };
        // No real flush: the model decides what is durable.
        match self.begin(CallKind::SyncFile, &id.to_string()) {
            Some(fault) => {
                let error = fault.error();
                self.record(StepKind::SyncFile { file: id }, Some(&error));
                if lie == Some(Lie::FailedFlushesReportSuccess) { Ok(()) } else { Err(error) }
            }
            None => {
                self.record(StepKind::SyncFile { file: id }, None);
                Ok(())
            }
        }
    }

    fn link(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from_name, to_name) = (self.name_of(from), self.name_of(to));
        let step = StepKind::Link { from: from_name, to: to_name.clone() };
        self.name_call(CallKind::Link, &to_name, || RealFileSystem.link(from, to), step)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        {
            let mut state = self.state();
            let onto_backup = to.extension().is_some_and(|extension| extension == "bak");
            if state.lie == Some(Lie::BackupRotatedAfterCommit)
                && onto_backup
                && state.deferred_rename.is_none()
            {
                state.deferred_rename = Some((from.to_owned(), to.to_owned()));
                return Ok(());
            }
        }
        self.rename_now(from, to)?;
        let deferred = self.state().deferred_rename.take();
        match deferred {
            Some((from, to)) => self.rename_now(&from, &to),
            None => Ok(()),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        assert_eq!(dir, self.dir, "the simulation covers {} only", self.dir.display());
        if self.state().lie == Some(Lie::DirectoryFlushesDoNothing) {
            return Ok(());
        }
        match self.begin(CallKind::SyncDir, "") {
            Some(fault) => {
                let error = fault.error();
                self.record(StepKind::SyncDir, Some(&error));
                Err(error)
            }
            None => {
                self.record(StepKind::SyncDir, None);
                Ok(())
            }
        }
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let name = self.name_of(path);
        let step = StepKind::Remove { name: name.clone() };
        self.name_call(CallKind::Remove, &name, || RealFileSystem.remove(path), step)
    }

    fn inspect(&self, path: &Path) -> io::Result<Option<Inspection>> {
        if let Some(fault) = self.begin(CallKind::Inspect, &self.name_of(path)) {
            return Err(fault.error());
        }
        RealFileSystem.inspect(path)
    }

    fn open_read(&self, path: &Path) -> io::Result<File> {
        if let Some(fault) = self.begin(CallKind::OpenRead, &self.name_of(path)) {
            return Err(fault.error());
        }
        RealFileSystem.open_read(path)
    }

    fn open_write(&self, path: &Path) -> io::Result<File> {
        if let Some(fault) = self.begin(CallKind::OpenWrite, &self.name_of(path)) {
            return Err(fault.error());
        }
        let file = RealFileSystem.open_write(path)?;
        let id = self.file_id(&file)?;
        self.state().appended_to.insert(id);
        Ok(file)
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
        assert_eq!(dir, self.dir, "the simulation covers {} only", self.dir.display());
        if let Some(fault) = self.begin(CallKind::ListDir, "") {
            return Err(fault.error());
        }
        RealFileSystem.list_dir(dir)
    }
}
