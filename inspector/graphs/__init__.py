"""GraphDefs without TensorFlow: protos from bytes (TensorBoard's copy), the pre/post diff,
what a picture shows (noise, changes only, collapsed scopes) and DOT through Graphviz.

Pure functions over GraphDef protos; used by the worker (diff) and the server (pictures).
"""
