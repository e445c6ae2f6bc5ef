#!/usr/bin/env bash
# Initialise PGDATA on first start the way the official postgres image does, then exec the
# server as PID 1. Honours POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required
# unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default POSTGRES_USER),
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD and /docker-entrypoint-initdb.d/*.sh|*.sql.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 0700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
auth_method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth_method" != 'trust' ]; then
		echo 'error: database is uninitialized and POSTGRES_PASSWORD is not set.' >&2
		echo '  Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, never in production).' >&2
		exit 1
	fi
	mkdir -p "$PGDATA"
	chmod 0700 "$PGDATA" 2>/dev/null || true

	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of flags, split on purpose
	initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
		--encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
	printf '\nhost all all all %s\n' "$auth_method" >>"$PGDATA/pg_hba.conf"

	# A temporary server on the Unix socket only: nothing connects over TCP until it is ready.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
	psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
	if [ "$POSTGRES_DB" != 'postgres' ]; then
		"${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
			*.sh) echo "$0: running $f"; # shellcheck disable=SC1090
				. "$f" ;;
			*.sql) echo "$0: running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
			*) [ -e "$f" ] && echo "$0: ignoring $f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo 'PostgreSQL init process complete; ready for start up.'
fi

exec "$@"
