"""Powertools logger and metrics shared by routes and event handlers.

Tracer is deliberately absent: aws-xray-sdk costs ~400 ms at import, which would triple the
cold start of every function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "objektify"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Objektify", service=SERVICE)
