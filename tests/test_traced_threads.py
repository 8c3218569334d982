"""A test process traced by coverage never hangs when threads that used greenlets end, and
their ends do not walk the whole heap (decision 0038, `tests/support/threads.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Two threads end close together: the first one's main greenlet is freed in greenlet's pending
# call on the main thread, where a weak reference's callback lets the second thread end before
# coverage's own callback starts. The callback's pause only makes the overlap certain.
SCENARIO = """
import sys, threading, time, weakref
import greenlet

sys.path.insert(0, {root!r})
if {guarded!r}:
    from tests.support.threads import keep_main_greenlets_of_new_threads
    keep_main_greenlets_of_new_threads()

second_may_end = threading.Event()
watched = []

def while_freed(reference):
    second_may_end.set()
    time.sleep(0.3)

def first():
    watched.append(weakref.ref(greenlet.getcurrent(), while_freed))

def second():
    greenlet.getcurrent()
    second_may_end.wait(1)

ending_second = threading.Thread(target=second)
ending_second.start()
ending_first = threading.Thread(target=first)
ending_first.start()
ending_first.join()
for _ in range(30):
    sum(range(10))
    time.sleep(0.05)
ending_second.join()
print("finished")
# None: greenlet's walk over every object at each thread's end is off.
print("leak check clocks:", greenlet._greenlet.get_clocks_used_doing_optional_cleanup())
"""

COVERAGE_SETTINGS = "[run]\nbranch = true\nconcurrency = thread,greenlet\n"


def _run_traced(directory: Path, *, guarded: bool, wait: float) -> str | None:
    """The scenario's output under coverage, or None when it had not ended after `wait` seconds
    (it ends in about two)."""
    script = directory / f"scenario_{guarded}.py"
    script.write_text(SCENARIO.format(root=str(ROOT), guarded=guarded))
    settings = directory / "coverage.ini"
    settings.write_text(COVERAGE_SETTINGS)
    command = [sys.executable, "-m", "coverage", "run", f"--rcfile={settings}"]
    command += [f"--data-file={directory / '.coverage'}", str(script)]
    try:
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=wait)
    except subprocess.TimeoutExpired:
        return None
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_threads_ending_together_do_not_hang_a_traced_process(tmp_path: Path) -> None:
    assert _run_traced(tmp_path, guarded=True, wait=60) == "finished\nleak check clocks: None\n"


def test_without_the_guard_the_same_threads_hang_it(tmp_path: Path) -> None:
    """The scenario above really is the hang: should a later Python no longer hang here, this
    fails, and the guard can go."""
    assert _run_traced(tmp_path, guarded=False, wait=5) is None
