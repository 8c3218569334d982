"""Memory a large stage freed goes back to the system."""

from __future__ import annotations

import subprocess
import sys

# A thread allocates 300 MB in 1 KB blocks and keeps one in a hundred, as copy detection
# leaves its heap: what it freed lies between what it kept, where the C library keeps it.
_CHURN = """
import threading
from consult.memory import give_back_freed_memory

def resident_mb():
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) // 1024

kept = []

def churn():
    blocks = [bytearray(1000) for _ in range(300_000)]
    kept.extend(blocks[::100])

worker = threading.Thread(target=churn)
worker.start()
worker.join()
before = resident_mb()
if GIVE_BACK:
    give_back_freed_memory()
print(before, resident_mb())
"""


def _resident_before_and_after(give_back: bool) -> tuple[int, int]:
    script = _CHURN.replace("GIVE_BACK", str(give_back))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    before, after = done.stdout.split()
    return int(before), int(after)


def test_pages_freed_between_kept_blocks_go_back_to_the_system() -> None:
    before, after = _resident_before_and_after(give_back=True)
    assert before - after > 200  # of about 300 MB freed
    # Without it, the process keeps them.
    before, after = _resident_before_and_after(give_back=False)
    assert before - after < 20
