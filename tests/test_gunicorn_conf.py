"""gunicorn.conf.py: the hook every PowerPact gunicorn runs before forking a worker."""

import gc
import runpy

from powerpact.config import PROJECT_ROOT


def test_pre_fork_moves_the_preloaded_objects_out_of_the_workers_collections():
    hooks = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    try:
        hooks["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
