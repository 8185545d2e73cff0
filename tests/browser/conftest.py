"""A live server and a real browser: Debian's chromium driven by Playwright.

The server runs the app in a thread on a file-based SQLite database (an in-memory one
would not be shared between the server's threads), set up the way ``make run`` does it:
``surveyapp init`` then ``surveyapp demo``. CSRF protection stays on, as in production.
"""

from __future__ import annotations

import threading
from collections.abc: Iterator
