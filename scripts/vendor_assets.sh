#!/usr/bin/env bash
# Copy the front-end assets installed by `npm ci` (from package-lock.json) into static/vendor/,
# where Django serves them. Nothing is ever loaded from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=static/vendor
rm -rf "$dest"
mkdir -p "$dest/htmx" "$dest/leaflet" "$dest/echarts" "$dest/pico"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx/"
# leaflet.js names its source map: the manifest storage of production's collectstatic needs it.
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map \
  node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp -r node_modules/leaflet/dist/images "$dest/leaflet/"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
cp node_modules/@picocss/pico/css/pico.min.css "$dest/pico/"
echo "vendored assets into $dest"
