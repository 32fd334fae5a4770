"""Saved runs: every inspection kept, found again, compared, pruned.

A store is a SQLAlchemy URL (``INSPECTOR_DB``; SQLite in the data folder by default,
PostgreSQL for a shared server) plus a folder of content-addressed artifacts
(``INSPECTOR_DATA``/artifacts): rows hold what lists and filters need, files hold reports and
GraphDefs. The schema is Alembic's, upgraded on open. No TensorFlow; reports cross as
``report.Report``.
"""

import os
from pathlib import Path

# A run's status, for filters (here, not in ``runs``: the CLI's parser names them without
# loading SQLAlchemy).
STATUSES = ("running", "done", "failed", "cancelled", "interrupted")

# The data folder (here, not in ``runs``: a CLI inspection finds the added TensorFlow versions
# under it before its worker starts, without loading SQLAlchemy).
DATA_ENV = "INSPECTOR_DATA"
# Where runs live when INSPECTOR_DATA is not set (the XDG data folder, like other tools).
DEFAULT_DATA = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / \
    "tf-graph-inspector"


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA)
