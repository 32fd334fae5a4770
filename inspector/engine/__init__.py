"""The inspection itself, in a worker process: load the user's code, build each mode's
tf.function, capture graphs before and after Grappler, explain retracing, infer shapes, time.

The ONLY package that imports TensorFlow (a test enforces it). Its entry point is
``engine.inspection.run(request) -> Report``; results leave as ``report`` dataclasses. This
``__init__`` imports nothing, so pure helpers (``passlog``, ``timing``) load without TensorFlow.
"""
