"""A writer that follows the Python dashboard's MetricsStore protocol, for mixed-fleet tests.

Written from the facts in docs/format.md ("The Python dashboard beside us"), stdlib only:
the lock file `.agent_metrics.lock` (O_CREAT | O_WRONLY, 0644, flock LOCK_EX | LOCK_NB
retried every 10 ms for up to 10 s); load() accepts a file only when it is JSON with every
top-level key, `agents` an object and `events`/`sessions` arrays, else tries the backup;
save() checks the same keys, sets updated_at, evicts to 500 events and 50 sessions, writes
`.agent_metrics.json.bak` as a full copy through `.agent_metrics_bak_*.tmp`, then the data
file through `mkstemp(prefix=".agent_metrics_", suffix=".tmp")`, `json.dump(indent=2,
ensure_ascii=False)`, fsync and os.replace.

Unlike the dashboard's own callers, this writer holds the lock around its whole
read-modify-write, which is how a Python caller gets safe updates.

Usage: dashboard_writer.py DIR WRITER_NAME COUNT ACK_FILE [--kill-after N]
       dashboard_writer.py --load DIR STATE_FILE
       dashboard_writer.py --save DIR STATE_FILE EVENT_ID
The last two split the dashboard's own pattern, `state = store.load(); ...; store.save(state)`
(two separate lock holds), across two processes, so that a test can run other writers
between them: --load keeps what load() returned in STATE_FILE, --save records EVENT_ID on
it and saves.
Every event id is appended to ACK_FILE (and flushed) only after save() returned, so the
file lists exactly the acknowledged events. Exit status 0; a load that found the data file
damaged (a torn file) makes it exit 3 at the end, after reporting on stderr.
"""

import contextlib
import datetime
import fcntl
import json
import os
import sys
import tempfile
import time

DATA = ".agent_metrics.json"
BACKUP = ".agent_metrics.json.bak"
LOCK = ".agent_metrics.lock"
REQUIRED = [
    "version", "project_name", "created_at", "updated_at", "total_sessions",
    "total_tokens", "total_cost_usd", "total_duration_seconds", "agents", "events",
    "sessions",
]


class LockTimeout(Exception):
    pass


@contextlib.contextmanager
def file_lock(directory, timeout=10.0):
    fd = os.open(os.path.join(directory, LOCK), os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout()
                time.sleep(0.01)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def is_valid(state):
    return (
        isinstance(state, dict)
        and all(key in state for key in REQUIRED)
        and isinstance(state["agents"], dict)
        and isinstance(state["events"], list)
        and isinstance(state["sessions"], list)
    )


def utcnow():
    return datetime.datetime.utcnow().isoformat() + "Z"


def fresh_state():
    now = utcnow()
    return {
        "version": 1, "project_name": "python", "created_at": now, "updated_at": now,
        "total_sessions": 0, "total_tokens": 0, "total_cost_usd": 0.0,
        "total_duration_seconds": 0.0, "agents": {}, "events": [], "sessions": [],
    }


def read_json(path):
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def load(directory, torn):
    """The dashboard's load(), counting a damaged data file in `torn`."""
    path = os.path.join(directory, DATA)
    try:
        state = read_json(path)
        if is_valid(state):
            return state
        torn.append("data file fails the top-level check")
    except FileNotFoundError:
        pass
    except (ValueError, UnicodeDecodeError) as err:
        torn.append(f"data file is not JSON: {err}")
    try:
        state = read_json(os.path.join(directory, BACKUP))
        if is_valid(state):
            return state
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return fresh_state()


def atomic_write(directory, target, prefix, state):
    fd, temp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, os.path.join(directory, target))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def save(directory, state):
    if not is_valid(state):
        raise ValueError("invalid state")
    state["updated_at"] = utcnow()
    state["events"] = state["events"][-500:]
    state["sessions"] = state["sessions"][-50:]
    current = os.path.join(directory, DATA)
    if os.path.exists(current):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            atomic_write(directory, BACKUP, ".agent_metrics_bak_", read_json(current))
    atomic_write(directory, DATA, ".agent_metrics_", state)


def record(state, event):
    state["events"].append(event)
    state["total_tokens"] += event["total_tokens"]
    state["total_cost_usd"] += event["estimated_cost_usd"]
    state["total_duration_seconds"] += event["duration_seconds"]
    agent = state["agents"].setdefault(event["agent_name"], {
        "agent_name": event["agent_name"], "total_invocations": 0,
        "successful_invocations": 0, "failed_invocations": 0, "total_tokens": 0,
        "total_cost_usd": 0.0, "total_duration_seconds": 0.0, "success_rate": 0.0,
        "avg_duration_seconds": 0.0, "avg_tokens_per_call": 0.0,
        "cost_per_success_usd": 0.0, "xp": 0, "level": 1, "current_streak": 0,
        "best_streak": 0, "achievements": [], "strengths": [], "weaknesses": [],
        "recent_events": [], "last_active": None,
    })
    agent["total_invocations"] += 1
    agent["successful_invocations"] += 1
    agent["current_streak"] += 1
    agent["best_streak"] = max(agent["best_streak"], agent["current_streak"])
    agent["xp"] += 10 + agent["current_streak"]
    agent["total_tokens"] += event["total_tokens"]
    agent["recent_events"] = (agent["recent_events"] + [event["event_id"]])[-20:]
    agent["last_active"] = event["ended_at"]


def new_event(name, event_id):
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    return {
        "event_id": event_id, "agent_name": name, "session_id": "py",
        "ticket_key": None, "started_at": now, "ended_at": now, "status": "success",
        "input_tokens": 7, "output_tokens": 3, "total_tokens": 10,
        "estimated_cost_usd": 0.001, "duration_seconds": 0.0, "artifacts": [],
        "error_message": None, "model_used": None,
    }


def split_load_save(argv):
    if argv[1] == "--load":
        directory, state_path = argv[2], argv[3]
        with file_lock(directory):
            state = load(directory, [])
        with open(state_path, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
    else:
        directory, state_path, event_id = argv[2], argv[3], argv[4]
        state = read_json(state_path)
        record(state, new_event("python", event_id))
        with file_lock(directory):
            save(directory, state)


def main():
    if sys.argv[1] in ("--load", "--save"):
        split_load_save(sys.argv)
        return
    directory, name, count, ack_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    torn = []
    with open(ack_path, "a", encoding="utf-8") as acks:
        for idx in range(count):
            event = new_event(name, f"{name}-{idx}")
            with file_lock(directory):
                state = load(directory, torn)
                record(state, event)
                save(directory, state)
            acks.write(event["event_id"] + "\n")
            acks.flush()
    if torn:
        print(f"{len(torn)} damaged loads: {torn[:3]}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
