"""gunicorn settings shared by every way PowerPact is served (Render, ``bench intake``).

The command line names the rest (workers, threads, bind, access log); this file holds
what a command line cannot: hooks. gunicorn reads ``./gunicorn.conf.py`` by default.
"""

import gc


def pre_fork(server, worker):
    """With ``--preload`` the app is imported in the master: move everything it made to
    the permanent generation, so that a worker's garbage collections never walk (and
    copy-on-write) the objects it shares with the master. Python's own advice for a
    process that forks without exec (``gc.freeze``)."""
    gc.freeze()
