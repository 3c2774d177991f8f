"""Moved: ``SES_VALIDATION_TEXT`` is ``ses_events.core``'s. This path is kept only for the callers
outside ses_events/ that still import it (tests/deploy); delete it once they import from
``ses_events.core``."""

from ses_events.core import SES_VALIDATION_TEXT

__all__ = ["SES_VALIDATION_TEXT"]
