"""Memory the process no longer uses, handed back to the system."""

from __future__ import annotations

import ctypes


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc's `malloc_trim`; nothing under another C library).

    Loading the models and the index allocates large temporary buffers (llama.cpp reads the GGUF, then
    repacks it); once freed, glibc keeps most of them mapped for later use, as resident memory no one
    uses.
    """
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
