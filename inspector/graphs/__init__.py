"""GraphDefs without TensorFlow: protos from bytes (TensorBoard's copy), the pre/post diff,
what a picture shows (noise, changes only, collapsed scopes) and DOT through Graphviz.

Pure functions over GraphDef protos; used by the worker (diff) and the server (pictures).
"""

# The picture formats Graphviz draws for us (here, not in render: the CLI checks --format
# without importing the drawing code and its protobufs).
PICTURE_FORMATS = ("svg", "png", "pdf")
