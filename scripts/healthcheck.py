#!/usr/bin/env python3
"""Container health check: GET /healthz on the local web server; exit 0 only on HTTP 200.

Sends the first ALLOWED_HOSTS name as Host and X-Forwarded-Proto: https, so production's
ALLOWED_HOSTS check and HTTPS redirect treat it like a request through the reverse proxy.
Standard library only (runs without Django).
"""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("PORT", "8000")
hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"}
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  # nosec B310 # our own local URL
        print(response.read().decode()[:500])
        sys.exit(0 if response.status == 200 else 1)
except urllib.error.HTTPError as error:
    print(f"{error.code}: {error.read().decode()[:500]}")
except (urllib.error.URLError, OSError) as error:
    print(f"unreachable: {error}")
sys.exit(1)
