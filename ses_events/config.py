"""Moved: ``DaemonConfig`` is ``ses_events.daemon.config``'s. This path is kept only for the callers
outside ses_events/ that still import it (tests/unit/test_render.py); delete it once they import
from ``ses_events.daemon.config``."""

from ses_events.daemon.config import DEFAULT_CONFIG, DaemonConfig

__all__ = ["DEFAULT_CONFIG", "DaemonConfig"]
