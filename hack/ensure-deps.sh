#!/bin/sh
# Installs the locked dependencies (Node.js 24 among them) when they are missing or older than
# package-lock.json, so `npm start` and `npm test` work as the first commands on a fresh clone.
# Runs on whatever Node.js npm itself runs on; everything after it runs on node_modules/.bin/node.
set -e
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -x node_modules/.bin/node ] || [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "kubeop: installing dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi
