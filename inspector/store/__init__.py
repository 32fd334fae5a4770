"""Saved runs: every inspection kept, found again, compared, pruned.

A store is a SQLAlchemy URL (``INSPECTOR_DB``; SQLite in the data folder by default,
PostgreSQL for a shared server) plus a folder of content-addressed artifacts
(``INSPECTOR_DATA``/artifacts): rows hold what lists and filters need, files hold reports and
GraphDefs. The schema is Alembic's, upgraded on open. No TensorFlow; reports cross as
``report.Report``.
"""

# A run's status, for filters (here, not in ``runs``: the CLI's parser names them without
# loading SQLAlchemy).
STATUSES = ("running", "done", "failed", "cancelled", "interrupted")
