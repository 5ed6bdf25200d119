#!/usr/bin/env bash
# Rebuild the vendored GOV.UK Frontend CSS/JS in src/schoolgate/static/govuk/ (run by
# hand when upgrading govuk-frontend; the result is committed, so no build at install).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund govuk-frontend@6.6.0 sass >/dev/null
cp "$here/school.scss" .
npx sass --no-source-map --style=compressed --quiet-deps school.scss school.min.css
static="$here/../../src/schoolgate/static/govuk"
cp school.min.css "$static/govuk-frontend.min.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$static/"
echo "GOV.UK Frontend rebuilt in $static"
