"""Response headers that keep pages from being framed, sniffed, cached or fed outside scripts.

Every page gets the same policy (OWASP ASVS 4.0 V14.4): only this site's own scripts,
styles and images, no inline script or style anywhere, never framed; no sniffing; no
referrer outside the site (invitation links carry their token in the address); no
camera, microphone or location. Pages are ``no-store`` unless the view set its own cache
rule, so a shared computer's browser cache keeps no answers. HSTS is sent only on HTTPS
requests: behind a proxy that ends TLS, set ``PROXY_COUNT`` so that the proxy's
``X-Forwarded-Proto`` (and the client's address, for rate limits) are believed.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

#: Only our own scripts, styles and images: there is no inline script or style anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: Powerful browser features no page of this site uses.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def strict_transport_security() -> str | None:
    """The HSTS header for this request: only over HTTPS, and unless HSTS_MAX_AGE is 0."""
    max_age = int(current_app.config.get("HSTS_MAX_AGE", 0))
    if not request.is_secure or max_age <= 0:
        return None
    return f"max-age={max_age}; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    hsts = strict_transport_security()
    if hsts:
        response.headers.setdefault("Strict-Transport-Security", hsts)
    if request.endpoint != "static" and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("PROXY_COUNT", 0))
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies,
            x_prefix=proxies)
    app.after_request(add_security_headers)
