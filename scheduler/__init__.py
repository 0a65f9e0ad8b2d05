"""The scheduler: nags, escalations and digests at the deployment's times (see runner.py)."""
