#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; the QR-sheet tests read PDFs with poppler-utils.
# Install them (and CJK fonts for readable screenshots) when missing and we may; otherwise
# say what to do.
set -euo pipefail
if [ -x /usr/bin/chromium ] && command -v pdftotext >/dev/null && fc-list 2>/dev/null | grep -qi 'cjk\|wqy'; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing chromium and CJK fonts for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null
else
  echo "Browser tests need /usr/bin/chromium and a CJK font: sudo apt-get install -y chromium fonts-noto-cjk poppler-utils" >&2
  exit 1
fi
