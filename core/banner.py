"""The lines `make run` prints once the portal is up, beside the URL and the demo logins.

A demo loader that creates something a person must know to try the demo (a partner API key,
say) calls `demo_banner_add("Open311 API key: ...")`. The lines live in var/demo_banner.txt;
a line already there is not added again, so loaders stay idempotent. It lives in core so that
any app's loader may call it (governance prints the lines: `manage.py portal_banner`).
"""

from pathlib import Path

from django.conf import settings


def demo_banner_path() -> Path:
    return Path(settings.VAR_DIR) / "demo_banner.txt"


def demo_banner_lines() -> list[str]:
    path = demo_banner_path()
    if not path.exists():
        return []
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and line not in lines:
            lines.append(line)
    return lines


def demo_banner_add(line: str) -> bool:
    """Append one line (without newlines) unless it is already there. Returns True if added."""
    line = " ".join(line.splitlines()).rstrip()
    if not line or line in demo_banner_lines():
        return False
    path = demo_banner_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return True
