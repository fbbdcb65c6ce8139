#!/usr/bin/env bash
# Install everything the test suite needs on a Debian-like machine, then run all of it.
#   bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

has_gb18030() { locale -a 2>/dev/null | grep -qi '^zh_CN\.gb18030$'; }

packages=()
has_gb18030 || packages+=(locales)
command -v chromium >/dev/null || packages+=(chromium)
# Instrument names are Chinese: a CJK font for the page's screenshot (web tests).
fc-list :lang=zh 2>/dev/null | grep -q . || packages+=(fonts-wqy-microhei)
if [ ${#packages[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if ! has_gb18030; then
  # openctp-ctp aborts the process at import without this locale.
  if grep -q 'zh_CN.GB18030 GB18030' /etc/locale.gen 2>/dev/null; then
    $SUDO sed -i 's/^# *zh_CN.GB18030 GB18030/zh_CN.GB18030 GB18030/' /etc/locale.gen
  else
    echo 'zh_CN.GB18030 GB18030' | $SUDO tee -a /etc/locale.gen >/dev/null
  fi
  $SUDO locale-gen >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test]'
exec python3 -m pytest "$@"
