"""Freed memory goes back to the system after the service loads its models and index."""

import subprocess
import sys

# ~200 MB of small blocks on the C heap, one in fifty kept: glibc cannot shrink the heap from its top, so the freed
# blocks stay resident until handed back
FREE_THEN_GIVE_BACK = """
import psutil
from core.memory import give_back_freed_memory
process = psutil.Process()
blocks = [bytes(2000) + bytes([i % 256]) for i in range(100_000)]
kept = blocks[::50]
del blocks
freed = process.memory_info().rss
give_back_freed_memory()
print(freed - process.memory_info().rss)
"""


def test_freed_heap_memory_is_handed_back() -> None:
    run = subprocess.run([sys.executable, "-c", FREE_THEN_GIVE_BACK], capture_output=True, text=True, check=True)
    assert int(run.stdout) > 100 * 1024 * 1024
