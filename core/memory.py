"""Memory the process no longer uses, handed back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("cuabot.memory")


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`).

    Loading the models and the index allocates large temporary buffers (llama.cpp reads the GGUF, then
    repacks it); once freed, glibc keeps most of them mapped for later use, as resident memory no one
    uses. Without glibc (another C library), nothing is done.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is None:
        log.debug("malloc_trim indisponible : mémoire libre non rendue au système")
        return
    trim(0)
