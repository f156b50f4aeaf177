#!/usr/bin/env bash
# Runs one cargo-fuzz target for a number of seconds, seeded from the project's own files.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Usage: scripts/fuzz.sh TARGET SECONDS   (targets: geojson csv shapefile kml xlsx gpkg osm)
# Findings land in fuzz/artifacts/TARGET/; each must become a regression test.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
target="$1"
seconds="${2:-1800}"
mkdir -p "corpus/$target" "artifacts/$target"
case "$target" in
  geojson) cp -n ../maps/zhoucun/fire_stations.geojson ../tests/data/*.geojson "corpus/$target/" ;;
  kml) cp -n ../tests/data/*.kml "corpus/$target/" 2>/dev/null || true ;;
  osm) cp -n ../tests/data/*.osm.pbf "corpus/$target/" 2>/dev/null || true ;;
esac
exec cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=262144 \
  -artifact_prefix="artifacts/$target/"
