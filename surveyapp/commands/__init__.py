"""Commands of the ``surveyapp`` CLI, one module per command or command group.

Each module defines ``command``, a click command or group; ``surveyapp.cli`` lists the
modules and registers their commands.
"""
