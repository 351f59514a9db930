"""Model packaging and rollout: `objektify model package|publish|list|rollback`.

The SageMaker Python SDK (sagemaker-core) sends usage telemetry unless its defaults config says
`TelemetryOptOut: true`. It reads that config from the admin file, then the user file, the
latter named by SAGEMAKER_USER_CONFIG_OVERRIDE; pointing that variable at our own file, before
the SDK is imported, opts out whatever the machine's files say (the user file is merged last).
"""

from __future__ import annotations

import os
from pathlib import Path

SDK_DEFAULTS = Path(__file__).with_name("sagemaker-defaults.yaml")

os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(SDK_DEFAULTS)
