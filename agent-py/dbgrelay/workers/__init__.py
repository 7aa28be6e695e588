"""Workers of multi-process servers as targets of their own.

A process forked (:mod:`.forkhook`: gunicorn and Celery prefork workers, multiprocessing
fork pools) or spawned (:mod:`.spawnhook`, :mod:`.spawned`: ``uvicorn --workers``,
multiprocessing spawn pools) by a program that runs the agent registers as
``GROUP/PID``, a member of the program's group, labelled with what started it
(:mod:`.serverkind`). It never waits for a client; while a client session runs with the
parent, a new worker goes debugpy's own subprocess way instead and is announced to it.
"""
