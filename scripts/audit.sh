#!/usr/bin/env bash
# `make audit`: security checks of the code and of the pinned dependencies.
#
# 1. bandit over the project's own Python (configuration: [tool.bandit] in pyproject.toml).
#    Any finding fails.
# 2. pip-audit over requirements.txt and requirements-dev.txt (their pinned versions and what
#    they pull in). Any known vulnerability fails. pip-audit asks PyPI's JSON API
#    (https://pypi.org/pypi/<name>/<version>/json, field "vulnerabilities"; the same data as
#    OSV's PyPI advisories). When that service cannot be reached, pip-audit marks packages
#    "could not be audited": that fails too, unless AUDIT_ALLOW_UNAUDITED=1, which turns it into
#    a loud warning with the count (for machines whose network only reaches a package mirror;
#    see docs/reliability.md, Hardening).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

echo "== bandit"
"$VENV/bin/bandit" -q -c pyproject.toml -r .
echo "bandit: no issues"

echo "== pip-audit"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
"$VENV/bin/pip-audit" -r requirements.txt -r requirements-dev.txt --progress-spinner off \
  --format json --output "$report"
status=$?
set -e
"$VENV/bin/python" - "$report" "$status" "${AUDIT_ALLOW_UNAUDITED:-0}" <<'PY'
import json
import sys

path, status, allow_unaudited = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
except (OSError, ValueError):
    sys.exit(f"pip-audit wrote no report (exit {status})")
dependencies = report.get("dependencies", [])
vulnerable = [d for d in dependencies if d.get("vulns")]
skipped = [d for d in dependencies if d.get("skip_reason")]
audited = len(dependencies) - len(skipped)
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
print(f"pip-audit: {len(dependencies)} packages, {audited} audited, {len(skipped)} not audited, "
      f"{sum(len(d['vulns']) for d in vulnerable)} known vulnerabilities")
if vulnerable:
    sys.exit(1)
if skipped:
    reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
    print(f"NOT AUDITED ({len(skipped)}): {'; '.join(reasons)}")
    if not allow_unaudited:
        sys.exit("pip-audit could not reach its vulnerability service for every package "
                 "(set AUDIT_ALLOW_UNAUDITED=1 to accept that on an offline machine)")
    print("WARNING: accepted because AUDIT_ALLOW_UNAUDITED=1")
PY
