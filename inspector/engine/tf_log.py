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
    """Put ENVIRONMENT in place before TF's import. The capture needs INFO lines and the meta
    optimizer's VLOG: an operator's TF_CPP_MIN_LOG_LEVEL is lowered to 0 and its VMODULE gets
    meta_optimizer=4 added (found in a walk: TF_CPP_MIN_LOG_LEVEL=2 in the server's
    environment lost every user's per-pass graphs); a meta_optimizer level or dump prefix
    set by the caller wins (the bench turns dumps off with meta_optimizer=1)."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = ENVIRONMENT["TF_CPP_MIN_LOG_LEVEL"]
    modules = [m for m in os.environ.get("TF_CPP_VMODULE", "").replace(" ", "").split(",") if m]
    if not any(m.startswith("meta_optimizer=") for m in modules):
        modules.append(ENVIRONMENT["TF_CPP_VMODULE"])
    os.environ["TF_CPP_VMODULE"] = ",".join(modules)
    os.environ.setdefault(DUMP_ENV, ENVIRONMENT[DUMP_ENV])


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
