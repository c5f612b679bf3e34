"""connector.crashpoints: SIGKILL at a named point of a run, for crash-safety tests and `make chaos`.

`PI_CONNECTOR_CRASH_AT=POINT:N` kills the connector (SIGKILL, no clean-up) the N-th time it reaches POINT:

- `after-commit`: a Delta commit (data or checkpoints) has landed and nothing after it has run (the
  window between a data commit and the bookmark that covers it);
- `in-commit`: in the middle of a Delta write: the moment its first data file appears under the
  table's directory, before the log entry that would make it visible (a watcher thread does it; if
  the write beats the watcher, right after it);
- `between-pages`: a page of recorded values has been read and the next is not asked for yet.

Unset, every call costs one attribute check. A malformed value fails the run before it reads anything.
Worker processes inherit the variable and the main process's pid, and kill both.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import typing as t
from collections import Counter
from pathlib import Path

from .errors import ConfigError

ENV = "PI_CONNECTOR_CRASH_AT"
MAIN_PID_ENV = "PI_CONNECTOR_CRASH_MAIN_PID"
POINTS = ("after-commit", "in-commit", "between-pages")
FORM = f"POINT:N with POINT one of {', '.join(POINTS)} and N a positive integer"

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def parse(text: str) -> tuple[str, int]:
    """`after-commit:3` -> ("after-commit", 3); anything else is a ConfigError naming the variable."""
    point, sep, count = text.strip().partition(":")
    if not sep or point not in POINTS or not count.isdigit() or int(count) < 1:
        raise ConfigError(f"{text!r}: expected {FORM}", file="<environment>", line=None, field=ENV)
    return point, int(count)


def target() -> tuple[str, int] | None:
    raw = os.environ.get(ENV)
    return parse(raw) if raw else None


def arm() -> None:
    """Check the variable (at the start of a run) and note the main pid for worker processes."""
    if target() is not None:
        os.environ.setdefault(MAIN_PID_ENV, str(os.getpid()))


def _due(point: str) -> bool:
    wanted = target()
    if wanted is None or wanted[0] != point:
        return False
    with _lock:
        _counts[point] += 1
        return _counts[point] == wanted[1]


def _kill() -> t.NoReturn:
    main = int(os.environ.get(MAIN_PID_ENV) or os.getpid())
    if main != os.getpid():
        with contextlib.suppress(ProcessLookupError):
            os.kill(main, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit(137)  # not reached


def reach(point: str) -> None:
    """Die here if this is the chosen point's N-th hit."""
    if os.environ.get(ENV) and _due(point):
        _kill()


@contextlib.contextmanager
def writing(directory: str) -> t.Iterator[None]:
    """Around one Delta write into `directory` (a local path): the `in-commit` point, then `after-commit`."""
    if not os.environ.get(ENV):
        yield
        return
    watcher = _Watcher(Path(directory)) if _due("in-commit") else None
    if watcher is not None:
        watcher.start()
    yield
    if watcher is not None:
        _kill()  # the write beat the watcher: die right after it
    reach("after-commit")


class _Watcher(threading.Thread):
    """Kills the process as soon as a file that was not there appears under a table (not in its log)."""

    def __init__(self, root: Path) -> None:
        super().__init__(name="crash-in-commit", daemon=True)
        self.root = root
        self.before = self._files()

    def _files(self) -> set[str]:
        found: set[str] = set()
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d != "_delta_log"]
            found.update(os.path.join(folder, name) for name in files)
        return found

    def run(self) -> None:
        while not (self._files() - self.before):
            time.sleep(0.0005)
        _kill()
