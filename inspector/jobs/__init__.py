"""Running inspections away from the caller: the ``Executor``/``JobHandle`` protocol, the local
pool of pre-started worker processes, the worker's JSON-lines protocol and the timing lock.

Runs in the parent process (the CLI, the web server) and never imports TensorFlow; only
``jobs.worker``, the worker process's entry point, hands a request to ``engine``. Requests go
in as ``InspectRequest`` JSON; ``Report`` JSON and progress events come back. Another backend
(a cluster) implements the same protocol beside ``local``.
"""
