#!/usr/bin/env bash
# Creates a development CA and a server certificate signed by it, for wss:// on this machine.
#   ./tls/make-certs.sh [extra-hostname-or-ip ...]
# Writes tls/ca.crt, tls/ca.key, tls/server.crt, tls/server.key (all git-ignored), or into the
# directory SISOCK_TLS_DIR when set (created if missing; the tests use a temporary one).
# The server certificate's subject alternative names are localhost, 127.0.0.1, ::1, this host's
# name, and any names given as arguments. Clients verify with `--ca tls/ca.crt`.
# For production, use certificates from your site's CA or ACME and point the router config's
# `endpoint.tls.key` / `endpoint.tls.certificate` at them instead.
set -euo pipefail
umask 077
out="${SISOCK_TLS_DIR:-$(dirname "$0")}"
mkdir -p "$out"
cd "$out"
shown="${SISOCK_TLS_DIR:-tls}"
days=${SISOCK_CERT_DAYS:-825}
host=$(hostname -f 2>/dev/null || hostname)
san="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:${host}"
for extra in "$@"; do
  if [[ "$extra" =~ ^[0-9.]+$ || "$extra" == *:* ]]; then san+=",IP:${extra}"; else san+=",DNS:${extra}"; fi
done

if [ ! -f ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
    -subj "/CN=sisock development CA" -keyout ca.key -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "created ${shown}/ca.crt (development CA)"
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${host}" \
  -keyout server.key -out server.csr 2>/dev/null
ext=$(mktemp); trap 'rm -f "$ext" server.csr' EXIT
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$san" > "$ext"
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" -extfile "$ext" -out server.crt 2>/dev/null
chmod 644 ca.crt server.crt
echo "created ${shown}/server.crt for ${san}"
