"""In-app notices: the unread badge in the layout, the list, and marking them read."""

from surveyapp.notifications.views import bp

__all__ = ["bp"]
