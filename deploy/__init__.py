"""Deployment helpers for ses-relay: `python -m deploy.bootstrap` creates the AWS side it needs."""
