# SPDX-License-Identifier: Apache-2.0
# p11-kit server in front of one token, for the remote-load test and bench
# (sourced).  The server daemonizes and keeps its standard output open, so
# its environment lines go to a file, never through $(...).
#   p11kit_server_start DIR PROVIDER TOKEN-URI
# Starts it on DIR/p11.sock, waits up to 10 s for the socket, then exports
# P11_KIT_SERVER_ADDRESS and sets P11KIT_SERVER_PID.  Returns 1 (with the
# server's stderr in DIR/server.err) when it did not come up.
p11kit_server_start() {
	local dir=$1 provider=$2 token=$3 i
	P11KIT_SERVER_PID=
	p11-kit server -s --provider "$provider" -n "$dir/p11.sock" "$token" > "$dir/server.env" 2> "$dir/server.err" &
	for i in $(seq 1 100); do
		grep -q P11_KIT_SERVER_PID "$dir/server.env" 2>/dev/null && [ -S "$dir/p11.sock" ] && break
		sleep 0.1
	done
	. "$dir/server.env"
	export P11_KIT_SERVER_ADDRESS
	P11KIT_SERVER_PID=${P11_KIT_SERVER_PID:-}
	[ -n "$P11KIT_SERVER_PID" ] && [ -S "$dir/p11.sock" ]
}
