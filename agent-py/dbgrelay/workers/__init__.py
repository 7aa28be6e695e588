"""Workers of multi-process servers as targets of their own.

A process forked from a program that runs the agent (a gunicorn or Celery prefork
worker, a ``multiprocessing`` fork-pool worker) registers as ``GROUP/PID``, a member of
the program's group (:mod:`.forkhook`), labelled with what forked it
(:mod:`.serverkind`). It never waits for a client.
"""
