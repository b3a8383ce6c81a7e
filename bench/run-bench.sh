#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run-bench.sh [--quick] [sisign_bench options] — make a throw-away SoftHSM
# token (softhsm-config/make-token.sh) and run the benchmark program with it.
# Without SoftHSM the token rows are skipped.  BENCH=path/to/sisign_bench.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=${BENCH:-sisign_bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SISIGN_PIN=${SISIGN_PIN:-1234}
export SOFTHSM2_MODULE=${SOFTHSM2_MODULE:-/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so}
if "$here/../softhsm-config/make-token.sh" "$work/hsm" bench > "$work/token.env" 2>"$work/token.err"; then
	export SOFTHSM2_CONF=$work/hsm/softhsm2.conf
	export BENCH_TOKEN_URI="pkcs11:token=bench;object=sisign;type=private"
else
	echo "run-bench.sh: no SoftHSM token ($(cat "$work/token.err")); token rows skipped" >&2
fi
"$bench" --dir "$work" "$@"
