#!/usr/bin/env bash
# Regenerate sdk/nodejs from schema.json (make sdk): build sdkgen/ (the Pulumi code generator
# github.com/pulumi/pulumi/pkg/v3/codegen/nodejs at the CLI's version) and run it.
# Usage: scripts/gen_nodejs_sdk.sh [OUT_DIR]   (default sdk/nodejs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/sdk/nodejs}"
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { echo "make sdk: no 'go' on PATH" >&2; exit 1; }
mkdir -p "$ROOT/.tools/bin"
(cd "$ROOT/sdkgen" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod" CGO_ENABLED=0 \
    go build -trimpath -o "$ROOT/.tools/bin/pulumi-phonenumbers-sdkgen" .)
"$ROOT/.tools/bin/pulumi-phonenumbers-sdkgen" "$ROOT/schema.json" "$OUT"
echo "wrote $OUT"
