"""powercis — power marketing management information system (电力营销管理信息系统)."""

import os

__version__ = "0.1.0"

#: Polars' allocator (jemalloc) settings, unless the deployment sets its own.  Polars configures jemalloc
#: to hand freed memory back to the kernel after half a second, so the next column of a few million
#: values is faulted in page by page again — and the set-based engines allocate and free such columns
#: all the time; on a virtual machine each fault is dear.  Freed memory is kept for a minute instead and
#: given back by jemalloc's background thread once the process is idle (docs/performance.md, "Register
#: read ingest").  Polars appends this to its own defaults when it is loaded, and jemalloc takes the last
#: value of an option, so it is set here, before any module imports Polars.
POLARS_ALLOCATOR = "background_thread:true,dirty_decay_ms:60000,muzzy_decay_ms:60000"
os.environ.setdefault("_RJEM_MALLOC_CONF", POLARS_ALLOCATOR)
