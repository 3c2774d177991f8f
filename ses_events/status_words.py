"""Moved: the status-word table is ``ses_events.core``'s (``status_words_table``). This path is kept
only for the docs generator (tools/docs.py, formerly entrypoint/docs.py) until it imports
``from ses_events.core import status_words_table``; delete it then."""

from ses_events.core import status_words_table as markdown_table

__all__ = ["markdown_table"]
