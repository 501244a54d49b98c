#!/bin/sh
# Refreshes the vendored Apache ECharts (internal/web/static/echarts.min.js
# and its licence) from the npm registry: the charts of the statistics
# pages are served from the binary, never fetched at run time.
# Usage: tools/echarts/refresh.sh [version]   (default: the latest)
set -eu
version=${1:-latest}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
npm pack "echarts@$version" >/dev/null
tar xzf echarts-*.tgz package/dist/echarts.min.js package/LICENSE package/NOTICE package/package.json
static=$(git -C "$OLDPWD" rev-parse --show-toplevel)/internal/web/static
cp package/dist/echarts.min.js "$static/echarts.min.js"
{ cat package/NOTICE; echo; cat package/LICENSE; } > "$static/echarts.LICENSE.txt"
echo "echarts $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' package/package.json | head -1) vendored"
