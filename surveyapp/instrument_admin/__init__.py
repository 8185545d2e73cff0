"""The instrument library in the web: versions, upload, preview, publish, compare, overlays."""

from surveyapp.instrument_admin import preview  # noqa: F401 - adds the preview routes to bp
from surveyapp.instrument_admin.views import bp

__all__ = ["bp"]
