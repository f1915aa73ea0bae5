#!/usr/bin/env bash
# Build the browser client (clients/web) into clients/web/dist, which the server serves at /.
# `npm run build` runs only when the sources changed, judged by a hash of the lock file, the
# sources and the build configuration kept in clients/web/.build-stamp; `npm ci` only when
# package-lock.json changed or node_modules is missing. A current build needs no Node.js.
# Usage: scripts/build_web.sh [--with-deps]   (--with-deps: node_modules installed even when
# the build is current, for the web client's tests). Exits 3 when Node.js/npm are missing.
set -euo pipefail
cd "$(dirname "$0")/../clients/web"

digest() {  # sha256 over the named files and directories, in a stable order
  find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

# The Python package's template files and WCO regions are bundled too (one source for both
# clients); the Dockerfile's node stage copies the same paths.
shared=(../python/cordon_client/templates ../python/cordon_client/analytics/regions.json)
sources=$(digest package.json package-lock.json index.html vite.config.ts tsconfig.json src public "${shared[@]}")
current=false
if [ -f dist/index.html ] && [ "$(cat .build-stamp 2>/dev/null)" = "$sources" ]; then
  current=true
  [ "${1:-}" = "--with-deps" ] || exit 0
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build_web: Node.js 20+ and npm are needed to build the web client (clients/web)" >&2
  exit 3
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "build_web: Node.js $(node --version) is too old; the web client needs 20 or newer" >&2
  exit 3
fi

lock=$(digest package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.cordon-lock 2>/dev/null)" != "$lock" ]; then
  echo "build_web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock" > node_modules/.cordon-lock
fi

if [ "$current" = false ]; then
  echo "build_web: npm run build"
  npm run build --silent
  echo "$sources" > .build-stamp
fi
