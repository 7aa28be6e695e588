"""The bridge process: dials out to the relay and bridges sessions to debugpy.

Started by :func:`dbgrelay.enable_attach` as ``python -m dbgrelay.bridge`` with its
configuration as one JSON line on stdin; it exits on stdin EOF or when its parent dies.
"""
