"""Evidence on the web: upload, link, reuse, new versions, and permission-checked downloads."""

from surveyapp.evidence.views import bp

__all__ = ["bp"]
