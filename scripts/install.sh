#!/usr/bin/env bash
# Installs what Ruộng Số needs on a fresh Debian/Ubuntu machine: the Debian packages of the real
# services (Mosquitto, InfluxDB 1.x) and a virtualenv in .venv with the project and its dev extra.
# Idempotent: a second run only checks. Sourced by scripts/demo and scripts/test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [[ -x /usr/sbin/mosquitto ]] || need_apt+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need_apt+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || need_apt+=(influxdb)
# PostgreSQL: the registry's tests run it privately (initdb + pg_ctl); a province may use it for the registry.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if ((${#need_apt[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing Debian packages: ${need_apt[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # The packages start system-wide services; Ruộng Số runs its own private ones instead.
  for svc in mosquitto influxdb postgresql; do
    $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f $stamp ]]; then
  log=.venv/pip-install.log
  echo "installing Python packages into .venv (log: $log)" >&2
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[dev]'; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "pip install failed; full log: $log" >&2
    exit 1
  fi
  rm -f .venv/.installed-* && touch "$stamp"
fi
