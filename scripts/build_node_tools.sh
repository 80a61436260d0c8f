#!/usr/bin/env bash
# Build what the Node.js-side tests need, so that no test reaches a registry (make node-tools):
#   .tools/bin/pulumi-phonenumbers-sdkgen   the Node.js SDK generator (sdkgen/, Go module proxy)
#   .tools/node/sdk/nodejs                  sdk/nodejs compiled with its npm dependencies
#   .tools/node/examples/typescript         examples/typescript compiled against it
# npm and the Go module proxy are reached here only. Run after `make pulumi-cli` (same caches).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { echo "node-tools: no 'go' on PATH" >&2; exit 1; }
mkdir -p "$ROOT/.tools/bin"
(cd "$ROOT/sdkgen" && GOFLAGS="${GOFLAGS:-} -buildvcs=false -mod=mod" CGO_ENABLED=0 \
    go build -trimpath -o "$ROOT/.tools/bin/pulumi-phonenumbers-sdkgen" .)
echo "node-tools: built .tools/bin/pulumi-phonenumbers-sdkgen"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node-tools: no node/npm on PATH: the TypeScript example is not built" >&2
    exit 1
fi
NPM=(npm --no-audit --no-fund --loglevel=error)
NODE="$ROOT/.tools/node"
rm -rf "$NODE/sdk" "$NODE/examples"
mkdir -p "$NODE/sdk" "$NODE/examples"
cp -a "$ROOT/sdk/nodejs" "$NODE/sdk/nodejs"
(cd "$NODE/sdk/nodejs" && "${NPM[@]}" install && npx tsc && cp package.json bin/package.json)
mkdir -p "$NODE/examples/typescript"
(cd "$ROOT/examples/typescript" && tar --exclude=node_modules --exclude=bin \
    --exclude=package-lock.json -cf - .) | (cd "$NODE/examples/typescript" && tar -xf -)
# --install-links: the SDK shares the program's @pulumi/pulumi (no symlinked copy)
(cd "$NODE/examples/typescript" && "${NPM[@]}" install --install-links && npx tsc)
echo "node-tools: built .tools/node (sdk/nodejs and examples/typescript)"
