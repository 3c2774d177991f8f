"""Moved: ``format_sqs_body`` is ``ses_events.core``'s. This path is kept only for the callers outside
ses_events/ that still import it (tests/image, tests/e2e, tests/bench); delete it once they import
from ``ses_events.core``."""

from ses_events.core import FormattedMessage, format_sqs_body

__all__ = ["FormattedMessage", "format_sqs_body"]
