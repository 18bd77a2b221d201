#!/bin/sh
# Start Mosquitto once the registry's password and ACL files exist: on a fresh volume they do not yet,
# and Mosquitto refuses to start without them. Empty files admit nobody until accounts are created
# (docs/operations.md, "First start").
set -eu
mkdir -p /mosquitto/auth /run/mosquitto
for f in /mosquitto/auth/passwd /mosquitto/auth/acl; do
    [ -e "$f" ] || : > "$f"
done
# uid 1883 is `mosquitto` in this image and the user the ruongso image runs as, so the API can
# rewrite the files and signal the broker.
chown -R 1883:1883 /mosquitto/auth /mosquitto/data /run/mosquitto
chmod 0700 /mosquitto/auth
chmod 0600 /mosquitto/auth/passwd /mosquitto/auth/acl
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
