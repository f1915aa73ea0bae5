"""Keep memory the server frees for its next request instead of handing it back to the kernel.

glibc gives the top of its heap back to the kernel once more than a few MiB are free there (a
threshold it moves with the largest block freed so far), so a server that allocates and frees
megabyte-sized buffers for every segment (request bodies, asyncpg's bind and row buffers)
faults the same memory in again and again: 150–180 page faults per MB uploaded to the
PostgreSQL blob store, 0.5 s of server CPU per GB (docs/benchmarks-library.md). Fixed
thresholds keep up to `TRIM_THRESHOLD` free at the top of the heap and serve blocks below
`MMAP_THRESHOLD` from it, so they are reused. An operator's own `MALLOC_*_` environment
settings win.
"""

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt() parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 32 * 1024 * 1024
MMAP_THRESHOLD = 8 * 1024 * 1024
_OPERATOR_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")


def keep_freed_memory() -> bool:
    """Fix glibc's trim and mmap thresholds for this process; False where nothing changed (not
    glibc, or the operator set them in the environment)."""
    if not sys.platform.startswith("linux") or any(v in os.environ for v in _OPERATOR_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; musl's stub returns 0.
    trim = int(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return trim == 1 and int(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) == 1
