"""Shared fixtures. TensorFlow's log settings must be in place before anything imports it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
os.environ.setdefault("TF_CPP_VMODULE", "meta_optimizer=1")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT))


def load_pbtxt(name: str):
    """A GraphDef from tests/data (protobuf text), as TensorFlow's own proto class reads it."""
    from google.protobuf import text_format
    from tensorflow.core.framework import graph_pb2

    return text_format.Parse((DATA / name).read_text(), graph_pb2.GraphDef())


@pytest.fixture(scope="session")
def executor():
    """Two pre-started workers shared by the tests that need isolation."""
    from inspector.executor import LocalExecutor

    with LocalExecutor(workers=2) as pool:
        yield pool
