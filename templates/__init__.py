"""Jinja templates of the web pages and reports.

A package only so that they are installed as package data with the code: ``create_app``
finds them with ``importlib.resources.files("templates")``.
"""
