"""Hosting for a team: the sandbox user code runs in, (later) the operator's policy and
sign-in. No TensorFlow; the sandbox wraps the worker command the local pool starts.
"""
