"""Fault injection: the real image under a steady load, one fault at a time, and a count of what
was lost or done twice. ``make faults`` runs every scenario at full scale into RELIABILITY.md
(run.py); ``make test`` runs a short form of a few of them (test_faults.py)."""
