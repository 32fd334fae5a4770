"""The store's tables (SQLAlchemy Core); the migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# One inspection. Lists and filters read only these columns; the report itself is an artifact.
runs = Table(
    "runs", metadata,
    # Short and URL-safe (secrets.token_urlsafe): ?run=<id>.
    Column("id", String(16), primary_key=True),
    # running, done, failed, cancelled or interrupted (see runs.STATUSES).
    Column("status", String(16), nullable=False, index=True),
    # Who ran it: "local" without sign-in, else the provider's "<iss>|<sub>" (stable; emails
    # can change hands).
    Column("owner", String(255), nullable=False, index=True),
    # How to show the owner: name or email at the time of the run.
    Column("owner_name", String(255), nullable=False, server_default="local"),
    # "team" (every signed-in user sees it) or "private" (its owner and admins).
    Column("visibility", String(16), nullable=False, server_default="team", index=True),
    Column("title", String(255)),
    Column("function", String(255), nullable=False, index=True),
    # "gallery:NAME" or the file name.
    Column("source_label", String(512), nullable=False),
    Column("source_text", Text, nullable=False),
    # The InspectRequest (inputs: function, calls, modes, device, options) and the limits.
    Column("request", JSON, nullable=False),
    Column("limits", JSON, nullable=False),
    Column("modes", JSON, nullable=False),
    Column("tensorflow", String(32), index=True),
    Column("device", String(128)),
    # Which backend ran it: "local".
    Column("executor", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True)),
    Column("duration_s", Float),
    # sha256 of the gzipped report JSON (graphs left out) under artifacts/.
    Column("report_sha", String(64)),
    # sha256 of the gzipped worker log (the user's prints, TensorFlow's C++ log), or NULL.
    Column("log_sha", String(64)),
    # sha256 of the model given as input (a .keras file or SavedModel archive), stored once
    # under artifacts/ however many runs use it; the request names it instead of holding it.
    Column("model_sha", String(64)),
    # {mode: {"pre": sha256, "post": sha256}} of serialized GraphDefs under artifacts/.
    Column("graphs", JSON),
    # {mode: post-Grappler node count}, for the History table.
    Column("post_nodes", JSON),
    Column("error_type", String(64)),
    # Bytes of the artifacts this run references (shared ones counted in each run).
    Column("size_bytes", Integer, nullable=False, default=0),
    # The process that waits for the run: a running row whose process is gone is interrupted.
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
)

run_tags = Table(
    "run_tags", metadata,
    Column("run_id", String(16), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index("ix_run_tags_tag", "tag"),
)
