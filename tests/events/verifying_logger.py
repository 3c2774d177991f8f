"""``python -m tests.events.verifying_logger``: ``ses-events run`` whose SNS verifier trusts a test server.

The daemon as the image runs it, except for the one thing no setting can change: the verifier
accepts certificate URLs under ``--certificate-base-url`` (a loopback HTTPS server of the test)
in place of AWS's, and trusts that server's CA (``--ca-file``). Only the tests can start it.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from pathlib import Path

from ses_events.daemon.config import DaemonConfig
from ses_events.daemon.sns_verifier import SnsVerifier
from ses_events.daemon.sqs_loop import Daemon


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="verifying_logger")
    parser.add_argument("--config", required=True)
    parser.add_argument("--certificate-base-url", required=True)
    parser.add_argument("--ca-file", required=True)
    args = parser.parse_args(argv)

    prefix = args.certificate_base_url.rstrip("/") + "/"
    verifier = SnsVerifier(
        certificate_url_allowed=lambda url: url.startswith(prefix),
        ssl_context=ssl.create_default_context(cafile=args.ca_file),
    )
    return Daemon(DaemonConfig.load(Path(args.config)), sns_verifier=verifier).run()


if __name__ == "__main__":
    sys.exit(main())
