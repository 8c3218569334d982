"""Coverage measures the same lines with its greenlet bookkeeping in a plain dict, and that
dict lets go of the greenlets that have ended (decision 0039, `tests/support/greenlet_index.py`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Code that leaves a function in the middle and comes back to it, the way SQLAlchemy's
# asyncio layer switches greenlets at each query, on the main thread and on another one.
SWITCHING = """
import threading

import greenlet


def query(parent):
    before = 1
    parent.switch("asked")
    after = before + 1
    return after


def handler():
    parent = greenlet.getcurrent()
    child = greenlet.greenlet(query)
    asked = child.switch(parent)
    if asked == "asked":
        answered = child.switch()
    else:
        answered = None
    return answered


def run():
    handler()
    thread = threading.Thread(target=handler)
    thread.start()
    thread.join()
"""

# Measures `switching.run()`, and prints the lines and arcs measured and what the indexes hold.
MEASURE = """
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {here!r})
import coverage
from tests.support import greenlet_index

if {fast!r}:
    greenlet_index.index_greenlets_at_c_speed()
measurement = coverage.Coverage(
    data_file=None, branch=True, concurrency={concurrency!r}, include=["*switching.py"]
)
measurement.start()
import switching
switching.run()
measurement.stop()
data = measurement.get_data()
(measured,) = [name for name in data.measured_files() if name.endswith("switching.py")]
held = sum(len(index) for index in greenlet_index.indexes())
indexes = len(greenlet_index.indexes())
# The other thread's main greenlet ends when its thread state is destroyed, just after `join`.
dropped = 0
for _ in range(500):
    dropped += greenlet_index.drop_ended_greenlets()
    if sum(len(index) for index in greenlet_index.indexes()) <= 1:
        break
    time.sleep(0.01)
print(json.dumps({{
    "arcs": sorted(data.arcs(measured)),
    "indexes": indexes,
    "indexes left": len(greenlet_index.indexes()),
    "held": held,
    "dropped": dropped,
    "left": sum(len(index) for index in greenlet_index.indexes()),
}}))
"""


def _measure(directory: Path, *, fast: bool, concurrency: list[str]) -> dict[str, object]:
    (directory / "switching.py").write_text(SWITCHING)
    script = directory / f"measure_{fast}_{len(concurrency)}.py"
    script.write_text(
        MEASURE.format(root=str(ROOT), here=str(directory), fast=fast, concurrency=concurrency)
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=directory, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    measured: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def test_the_plain_dict_measures_what_coverages_own_dictionary_measures(tmp_path: Path) -> None:
    greenlets = ["thread", "greenlet"]
    own = _measure(tmp_path, fast=False, concurrency=greenlets)
    fast = _measure(tmp_path, fast=True, concurrency=greenlets)
    assert fast["arcs"] == own["arcs"]
    # The index really was used: a tracer per thread, each with its greenlets.
    assert own["indexes"] == 0
    assert fast["indexes"] == 2
    assert fast["held"] == 4  # each thread's main greenlet and its `query` greenlet
    # Without greenlet bookkeeping, what runs after a switch is lost: the comparison above
    # would see a broken index.
    assert _measure(tmp_path, fast=False, concurrency=["thread"])["arcs"] != own["arcs"]


def test_greenlets_that_have_ended_are_let_go(tmp_path: Path) -> None:
    fast = _measure(tmp_path, fast=True, concurrency=["thread", "greenlet"])
    # Both `query` greenlets ended, and the other thread with its main greenlet; the main
    # thread's main greenlet is still running.
    assert (fast["dropped"], fast["left"]) == (3, 1)
    # The ended thread's index went with them.
    assert fast["indexes left"] == 1
