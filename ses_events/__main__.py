"""``python -m ses_events`` runs the ``ses-events`` command line."""

import sys

from ses_events.cli import main

sys.exit(main())
