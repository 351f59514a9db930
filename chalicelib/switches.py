"""The service switches and the document they start from: a Powertools feature-flags document in
one SSM parameter, read and written by chalicelib/services/flags.py. The infrastructure writes
this document when it creates the parameter (infra/service_config.py), and so does the local
stack; every switch starts on, with no operator's message.
"""

from __future__ import annotations

from typing import Any

SWITCHES = ("generation", "gallery", "reports")


def default_document() -> dict[str, Any]:
    return {
        name: {"boolean_type": False, "default": {"enabled": True, "message": ""}}
        for name in SWITCHES
    }
