"""One warm inspection in a new process, as a worker runs it. argv: entry, modes
(comma-separated), runs. The environment decides the rest before TensorFlow's import:
TF_CPP_VMODULE whether Grappler dumps each pass (meta_optimizer=4) or only logs it (=1),
INSPECTOR_PROFILE_CALLS how many calls are profiled after the timed ones.

Prints JSON: the inspection's seconds, the first calls' seconds, the passes captured, and per
mode the timing's median and breakdown (µs)."""

from __future__ import annotations

import json
import os
import sys
import time

from inspector.engine import tf_log

tf_log.set_environment()

from inspector.engine import inspection  # noqa: E402
from inspector.inputs.request import prepare  # noqa: E402
from inspector.inputs.sources import read_source  # noqa: E402


def main() -> None:
    inspection.warm_up()
    request = prepare(read_source("gallery:" + sys.argv[1]), modes=sys.argv[2].split(","),
                      runs=int(sys.argv[3]), include_graphs=True)
    start = time.perf_counter()
    report = inspection.run(request)
    total = time.perf_counter() - start
    modes = {}
    for result in report.results:
        assert result.timing is not None, result.error
        b = result.timing.breakdown
        modes[result.mode] = {"median": result.timing.median_us,
                              "before": b.before_graph_us if b else None,
                              "conversion": b.conversion_us if b else None,
                              "alone": b.convert_alone_us if b else None}
    print(json.dumps({"total": total,
                      "first": sum(r.timing.first_call_us for r in report.results
                                   if r.timing) / 1e6,
                      "passes": sum(len(r.passes) for r in report.results), "modes": modes}))
    sys.stdout.flush()
    os._exit(0)  # as the worker does: skip TensorFlow's teardown


if __name__ == "__main__":
    main()
