#!/usr/bin/env bash
# Install the Ruộng Số edge agent on Raspberry Pi OS (Bookworm or Bullseye). Run as root on the Pi:
#
#   sudo edge/deploy/install.sh [--source PATH_OR_WHEEL] [--profile fish_pond] [--no-interfaces]
#
# --source   what to pip-install: a ruongso wheel/sdist or a source checkout (default: this checkout)
# --profile  production type whose sample node.yaml is copied if /etc/ruongso-edge/node.yaml is absent
#            (rice_paddy vegetable_open net_house fish_pond pig_barn poultry_barn lychee_orchard)
# --no-interfaces  do not switch on I2C, 1-Wire and the serial port with raspi-config
#
# It creates the system user `ruongso`, a virtualenv in /opt/ruongso-edge/venv with `ruongso[edge]`
# only (paho-mqtt, pyyaml, typer), /etc/ruongso-edge (config, password, CA) and the systemd unit,
# and turns NTP on. It does not start the agent: edit node.yaml, run the self-test, then start.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source_spec="$(cd "$here/../.." && pwd)"
profile="fish_pond"
interfaces=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --source) source_spec="$2"; shift 2 ;;
        --profile) profile="$2"; shift 2 ;;
        --no-interfaces) interfaces=0; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
sample="$here/samples/$profile.yaml"
if [[ ! -f "$sample" ]]; then
    echo "install.sh: no sample config for production type '$profile' in $here/samples" >&2
    exit 2
fi
if [[ $EUID -ne 0 ]]; then
    echo "install.sh: run as root (sudo)" >&2
    exit 1
fi

echo "==> packages"
apt-get update -qq
apt-get install -y -qq python3-venv python3-pip i2c-tools

if [[ $interfaces -eq 1 ]] && command -v raspi-config >/dev/null; then
    echo "==> interfaces: I2C, 1-Wire (GPIO4), serial port hardware on, serial console off"
    raspi-config nonint do_i2c 0
    raspi-config nonint do_onewire 0
    raspi-config nonint do_serial_hw 0 2>/dev/null || raspi-config nonint do_serial 2
    raspi-config nonint do_serial_cons 1 2>/dev/null || true
fi

echo "==> user ruongso"
if ! id ruongso >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/ruongso-edge --shell /usr/sbin/nologin ruongso
fi
for group in i2c gpio dialout; do
    getent group "$group" >/dev/null && usermod -aG "$group" ruongso
done

echo "==> virtualenv /opt/ruongso-edge/venv"
python3 -m venv /opt/ruongso-edge/venv
/opt/ruongso-edge/venv/bin/pip install --quiet --upgrade pip
/opt/ruongso-edge/venv/bin/pip install --quiet "${source_spec}[edge]"

echo "==> /etc/ruongso-edge"
install -d -m 0750 -o root -g ruongso /etc/ruongso-edge
install -d -m 0750 -o ruongso -g ruongso /var/lib/ruongso-edge
if [[ ! -f /etc/ruongso-edge/node.yaml ]]; then
    install -m 0640 -o root -g ruongso "$sample" /etc/ruongso-edge/node.yaml
    echo "    copied the $profile sample: edit site, node and mqtt.url"
fi

echo "==> systemd unit"
install -m 0644 "$here/ruongso-edge.service" /etc/systemd/system/ruongso-edge.service
systemctl daemon-reload
systemctl enable ruongso-edge.service
timedatectl set-ntp true || true

cat <<NEXT
Done. Next:
  1. Edit /etc/ruongso-edge/node.yaml (site, node, mqtt.url, sensors).
  2. Credentials, either way:
     - the file \`ruongso node add\` wrote on the server, copied to /etc/ruongso-edge/provisioned.yaml,
       with \`provisioned: provisioned.yaml\` in node.yaml (identity, broker and password come from it); or
     - the node's MQTT password in /etc/ruongso-edge/mqtt-password.
     The broker's CA in /etc/ruongso-edge/ca.crt. All: chown root:ruongso, chmod 0640.
  3. Self-test:  sudo -u ruongso /opt/ruongso-edge/venv/bin/ruongso edge check --config /etc/ruongso-edge/node.yaml
  4. Start:      systemctl start ruongso-edge && journalctl -u ruongso-edge -f
NEXT
