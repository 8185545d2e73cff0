"""The PDF report: Jinja templates from templates/reports/, laid out by WeasyPrint.

Rendering touches nothing outside the project: the URL fetcher serves only the
files of templates/reports/ (the stylesheet) and data: URLs (the charts), and
refuses everything else, network and other local files alike. Fonts are the
system's DejaVu (Debian fonts-dejavu-core), named in the stylesheet.
"""

from __future__ import annotations

import base64
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reports.blocks import kind
from reports.document import Document, build_document
from reports.model import ReportData

TEMPLATE_PACKAGE = "templates"
TEMPLATE_FOLDER = "reports"
TEMPLATE = "report.html"


def template_folder() -> Path:
    """templates/reports/, wherever the package is installed."""
    return Path(str(resources.files(TEMPLATE_PACKAGE) / TEMPLATE_FOLDER))


class ReportAssetFetcher(URLFetcher):
    """Serves templates/reports/ and data: URLs; refuses any other URL."""

    def __init__(self, folder: Path) -> None:
        super().__init__(allowed_protocols=("file", "data"))
        self.folder = folder.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if path.is_relative_to(self.folder) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(),
                                          {"Content-Type": _content_type(path)})
        raise ValueError(f"reports fetch only their own files, not {url}")


def _content_type(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml"}.get(path.suffix, "application/"
                                                               "octet-stream")


@cache
def _environment(folder: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["kind"] = kind
    environment.filters["data_uri"] = _svg_data_uri
    return environment


def _svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def render_html(data: ReportData) -> str:
    """The report as one HTML page, ready for WeasyPrint."""
    return document_html(build_document(data))


def document_html(document: Document) -> str:
    """Any report document (an assessment, a quarter's progress) as one HTML page."""
    template = _environment(template_folder()).get_template(TEMPLATE)
    return template.render(document=document)


def render_document_pdf(document: Document) -> bytes:
    return pdf_of_html(document_html(document))


def pdf_of_html(html: str) -> bytes:
    """Lay out report HTML as PDF, with assets from templates/reports/ only."""
    folder = template_folder()
    return HTML(string=html, base_url=folder.as_uri() + "/",
                url_fetcher=ReportAssetFetcher(folder)).write_pdf()


def render_pdf(data: ReportData) -> bytes:
    """The report as PDF bytes."""
    return pdf_of_html(render_html(data))
