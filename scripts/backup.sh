#!/usr/bin/env bash
# Back up the database (PostgreSQL: pg_dump -Fc from one snapshot; SQLite: the online backup
# API) and the media files, with a manifest of row counts per table and checksums.
#   scripts/backup.sh [DIRECTORY]   (default: $BACKUP_DIR, else var/backups)
# Uses the same environment as the portal (DATABASE_URL, MEDIA_ROOT ...). docs/operations.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
umask 077
exec "$PYTHON" "$ROOT/scripts/backup_tool.py" backup "$@"
