"""What TensorFlow must be told before it is imported so Grappler reports each pass: its log
level and the per-pass graph dumps. Imports no TensorFlow (the worker and the tests set these
first)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

DUMP_ENV = "TF_DUMP_GRAPH_PREFIX"
# Where dumps go outside a capture: a path no one can create (below a device file), so the
# meta optimizer's VLOG(4) dumps of later optimizations (ablation recompiles, retraces) fail
# at once instead of writing megabytes.
NO_DUMPS = "/dev/null/no-dumps"
# meta_optimizer=1 logs a line per pass; 4 also dumps the graph after each pass, read at each
# dump from TF_DUMP_GRAPH_PREFIX (so a capture can point it at its own folder).
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "meta_optimizer=4",
               DUMP_ENV: NO_DUMPS}


def set_environment() -> None:
    """Put ENVIRONMENT in place (values already set by the caller win); before TF's import."""
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def dumps_enabled() -> bool:
    """Whether this process's TensorFlow will dump the graph after each pass (its VMODULE is
    read once, at import)."""
    return "meta_optimizer=4" in os.environ.get("TF_CPP_VMODULE", "").replace(" ", "")


@contextmanager
def pass_dumps() -> Iterator[str]:
    """A private folder (0700, under the job's temp folder) that receives the dumps written in
    the block; removed afterwards, and dumping is pointed back at NO_DUMPS."""
    folder = tempfile.mkdtemp(prefix="grappler-passes-")
    os.environ[DUMP_ENV] = folder
    try:
        yield folder
    finally:
        os.environ[DUMP_ENV] = NO_DUMPS
        shutil.rmtree(folder, ignore_errors=True)
