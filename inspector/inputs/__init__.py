"""What the user asks for, read and checked before anything runs: source text, the gallery, the
call grammar, the mode list, Grappler option names, and the validated ``InspectRequest``.

No TensorFlow, no processes. Everything here is safe in the web server; an ``InspectRequest``
is what crosses to a worker (as JSON).
"""
