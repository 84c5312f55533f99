"""gunicorn settings shared by every way PowerPact is served (Render, ``bench intake``).

The command line names the rest (workers, threads, bind, access log); this file holds
what a command line cannot: hooks. gunicorn reads ``./gunicorn.conf.py`` by default.
"""

import gc

from powerpact.config import ConfigError, Settings


def on_starting(server):
    """Check the settings in the master before any worker is forked.

    With ``--preload`` (Render) ``wsgi.py`` already stops the master with the same
    lines; without it each worker would fail to build the app, exit and be forked
    again for ever, repeating the lines. Here gunicorn stops once, one line for each
    problem, no traceback.
    """
    try:
        Settings.from_env()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None


def pre_fork(server, worker):
    """With ``--preload`` the app is imported in the master: move everything it made to
    the permanent generation, so that a worker's garbage collections never walk (and
    copy-on-write) the objects it shares with the master. Python's own advice for a
    process that forks without exec (``gc.freeze``)."""
    gc.freeze()
