"""What a worker's environment holds: built from scratch from an allow-list, never copied.

The server's environment holds the operator's secrets (a store URL with its password, API
tokens, Ray's address). User code runs in the worker and can read its own environment and
``/proc/<pid>/environ`` of every process it can see, so none of that may reach it. A worker
gets only the variables named here (the README's "What a worker sees" lists them), plus what
the pool sets for it; in the sandbox, ``HOME`` and ``TMPDIR`` point at its private ``/tmp``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Passed through by exact name: what Python, the C library and the dynamic loader need.
NAMES = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
    # CUDA's libraries are found through it on some GPU hosts.
    "LD_LIBRARY_PATH",
    # Set on purpose by whoever started us (the test suite, a packaged install).
    "PYTHONPATH", "PYTHONHASHSEED",
})
# Passed through by prefix: TensorFlow's and XLA's switches (TF_ENABLE_ONEDNN_OPTS, TF_CPP_*,
# TF_NUM_*THREADS, XLA_FLAGS), the thread pools' (OMP_, KMP_, MKL_), OpenBLAS's core type
# (set on processors where older builds crash), CUDA's device selection, locale. Narrow on
# purpose: a bare "TF_" would also pass Terraform's TF_VAR_*/TF_TOKEN_* secrets.
PREFIXES = ("LC_", "TF_CPP_", "TF_ENABLE_", "TF_NUM_", "TF_XLA_", "TF_GPU_", "TF_FORCE_",
            "TF_DISABLE_", "TF_USE_", "TF_DETERMINISTIC", "TF_INTRA_", "TF_INTER_", "XLA_",
            "OMP_", "KMP_", "MKL_", "OPENBLAS_", "CUDA_")
# Names that look like credentials never pass, whatever their prefix.
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "KEY", "AUTH")
# The pool's own switches a worker reads (worker.py, turns.py, engine/profile.py); none holds
# a secret.
INSPECTOR_NAMES = frozenset({"INSPECTOR_WARM_UP", "INSPECTOR_NETWORK",
                             "INSPECTOR_PROFILE_CALLS"})


def allowed(name: str) -> bool:
    """Whether a variable of the server's environment may reach a worker."""
    if any(word in name.upper() for word in SECRET_WORDS):
        return False
    return name in NAMES or name in INSPECTOR_NAMES or name.startswith(PREFIXES)


def worker_environment(source: Mapping[str, str],
                       extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a worker starts with: the allowed part of ``source`` (the server's
    environment), then ``extra`` (what the pool sets: its timing lock, HOME, TMPDIR)."""
    env = {name: value for name, value in source.items() if allowed(name)}
    env.setdefault("PATH", os.defpath)
    env.update(extra or {})
    env["PYTHONUNBUFFERED"] = "1"
    return env
