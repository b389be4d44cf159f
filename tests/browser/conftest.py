"""Every browser journey also checks the Content-Security-Policy: a page that breaks it (an
inline script or event handler, a script or style from elsewhere) fails the journey.

The override wraps tests/conftest.py's ``browser_page``: each document reports its
``securitypolicyviolation`` events to the test through an exposed binding, and Chromium's
console messages about the policy are collected too (they cover violations raised before the
listener is installed). After the test, any violation fails it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  if (window.__gridgovCspViolation) {
    window.__gridgovCspViolation({
      directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
      line: e.lineNumber, sample: e.sample, page: document.location.pathname
    });
  }
});
"""


class CspViolations(list):
    """What the journey collected; ``assert_none()`` fails the test with the list."""

    def assert_none(self) -> None:
        if self:
            lines = "\n".join(f"- {item}" for item in self)
            pytest.fail(f"Content-Security-Policy violations in the browser:\n{lines}")


@pytest.fixture
def csp_violations() -> CspViolations:
    return CspViolations()


@pytest.fixture
def browser_page(browser_page: Any, csp_violations: CspViolations) -> Iterator[Any]:
    context = browser_page.context
    context.expose_binding(
        "__gridgovCspViolation", lambda _source, report: csp_violations.append(report)
    )
    context.add_init_script(CSP_LISTENER)

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append({"console": message.text, "page": browser_page.url})

    browser_page.on("console", on_console)
    yield browser_page
    csp_violations.assert_none()
