#!/usr/bin/env bash
# Restore a backup set into a fresh database and an empty media folder (those the environment
# names: DATABASE_URL, MEDIA_ROOT), then verify every table's row count against the manifest.
#   scripts/restore.sh BACKUP_SET_DIRECTORY
# Refuses a database that has tables or a media folder with files; exits 1 when the counts
# differ. docs/operations.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BACKUP_SET_DIRECTORY" >&2
  exit 2
fi
exec "$PYTHON" "$ROOT/scripts/backup_tool.py" restore "$1"
