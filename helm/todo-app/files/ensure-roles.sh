#!/bin/bash
# Wait for the server beside this container, then apply ensure-roles.sql as the superuser over
# TCP with the password from its Secret (PGPASSWORD). The passwords reach psql as variables,
# never as arguments a process listing would show. Exits non-zero when the roles are not right.
set -euo pipefail
deadline=$((SECONDS + ${ROLES_WAIT_SECONDS:-300}))
until pg_isready -q -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "the database did not accept connections within ${ROLES_WAIT_SECONDS:-300} s" >&2
    exit 1
  fi
  sleep 1
done
psql --no-psqlrc --quiet -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -v owner="$DATABASE_OWNER_USER" -v app="$DATABASE_APP_USER" \
  -v owner_password="$DATABASE_OWNER_PASSWORD" -v app_password="$DATABASE_APP_PASSWORD" \
  -f "$(dirname "$0")/ensure-roles.sql" >/dev/null
echo "roles $DATABASE_OWNER_USER (owner of schema public) and $DATABASE_APP_USER (rows only) are in place"
