"""qda: offline qualitative data analysis for German interviews and surveys."""

import os as _os

__version__ = "0.1.0"

# Nothing is ever downloaded (interview data is personal data, and models must be local): the
# model libraries read these when they are imported, so they are set here, before any of them,
# and override what the environment says.
for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    _os.environ[_name] = "1"
