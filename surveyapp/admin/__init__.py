"""Administration pages: reading and exporting the audit log (never changing it)."""

from surveyapp.admin.views import bp

__all__ = ["bp"]
