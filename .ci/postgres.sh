# Functions to run a throwaway PostgreSQL cluster for the tests. Sourced by
# .ci/run; needs Debian's postgresql package and root (the cluster runs as
# the postgres user).

pg_bindir() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for p in $(seq 54320 54400); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# pg_start DIR starts a cluster in DIR and sets PG_PORT and PG_URL. The
# cluster trades durability for speed (fsync off): it holds test data only.
pg_start() {
	local dir=$1 bin
	bin=$(pg_bindir)
	[ -n "$bin" ] || { echo "PostgreSQL is not installed" >&2; return 1; }
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	PG_PORT=$(free_port)
	su postgres -s /bin/sh -c "'$bin/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >'$dir/initdb.log' 2>&1" || { cat "$dir/initdb.log" >&2; return 1; }
	su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $PG_PORT -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start >/dev/null" || { cat "$dir/server.log" >&2; return 1; }
	PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
	export PG_PORT PG_URL
}

# pg_stop DIR stops the cluster started in DIR.
pg_stop() {
	local dir=$1 bin
	bin=$(pg_bindir)
	[ -d "$dir/data" ] && su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null 2>&1"
	return 0
}
