"""The production server's settings (config/gunicorn.conf.py): what the master does before it forks."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[1] / "config" / "gunicorn.conf.py"


def test_the_master_freezes_what_it_loaded_before_each_fork():
    settings = runpy.run_path(str(CONF))
    assert settings["preload_app"] is True
    gc.unfreeze()
    try:
        settings["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
