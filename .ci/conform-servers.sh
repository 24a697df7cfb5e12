# shellcheck shell=bash
# EXTRA_SERVERS_FILE for ../shared/bench/conform.sh (and peers.sh): registers
# fedns as one more server.  Sourced by lib.sh's register_peers; see
# ../shared/bench/extra-servers.example.sh for the conventions.
#
# FEDNS_BIN (the fedns binary, absolute path) is expanded here, when the file
# is sourced; PORT and ZONE_FILE are escaped so that they expand in the
# server's own `bash -c "exec ..."`, where lib.sh exports them.
: "${FEDNS_BIN:?set FEDNS_BIN to the fedns binary (e.g. target/debug/fedns)}"
# FEDNS_CONFORM_PORT: .ci/conform.sh picks a free one (5310 by default).
register_server fedns "${FEDNS_CONFORM_PORT:-5310}" "'$FEDNS_BIN' serve --listen 127.0.0.1:\$PORT --zone \"\$ZONE_FILE\""
