#!/usr/bin/env bash
# ./demo.sh: install what is missing, build, then show a real S/MIME round trip: a
# throw-away test PKI (tests/common/make_pki.sh), a keystore made with smimectl, the real
# smime-milter behind a private loopback Postfix (tests/harness/postfix-instance.sh) relaying
# to an smtp-sink. Three messages go through it:
#   1. outbound: alice (SMTP AUTH) -> bob: arrives signed AND encrypted,
#   2. inbound: signed by an outside partner (dave), with a forged Authentication-Results
#      claiming our id: arrives with our own "smime=pass" header, the forged one removed,
#   3. inbound: the same signed message tampered with on the way: "smime=fail".
# Each result is also checked with `openssl cms` (decrypt + verify) in the output.
# Stops everything it started on exit. Exit status 0 when every check passed.
#
# Environment: DEMO_BUILD_DIR=<dir> skips deps + build and uses that build tree;
# DEMO_KEEP=1 leaves the work directory (not the processes) for inspection.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [[ -z ${DEMO_BUILD_DIR:-} ]]; then
  say "Installing missing Debian packages"
  ./scripts/deps.sh
  say "Building (cmake --preset default)"
  cmake --preset default >/dev/null
  cmake --build --preset default -j"$(nproc)"
  BUILD=$ROOT/build
else
  BUILD=$(cd "$DEMO_BUILD_DIR" && pwd)
fi

WORK=$(mktemp -d /tmp/smime-demo-XXXXXX)
chmod 0711 "$WORK"  # Postfix's smtpd (user postfix) must reach the milter socket
PF_DIR=$WORK/smime-demo
MILTER_PID=
SOCKET=$WORK/milter/milter.sock

cleanup() {
  local rc=$?
  set +e  # stop everything, whatever fails on the way
  if [[ -n $MILTER_PID ]]; then
    kill "$MILTER_PID" 2>/dev/null
    wait "$MILTER_PID" 2>/dev/null
  fi
  "$ROOT/tests/harness/postfix-instance.sh" stop "$PF_DIR" || rc=1
  if [[ -n ${DEMO_KEEP:-} ]]; then
    echo "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
PKI=$WORK/pki
AUTHSERV_ID=mx.example.gov
CONF=$WORK/milter/smime-milter.conf
ctl() { "$BUILD/cli/smimectl" -c "$CONF" "$@"; }

say "Creating a throw-away test PKI (tests/common/make_pki.sh)"
"$ROOT/tests/common/make_pki.sh" "$PKI" >"$WORK/make_pki.log" 2>&1 ||
  { cat "$WORK/make_pki.log" >&2; exit 1; }
echo "root CA, issuing CA, alice@example.gov, bob@example.gov, dave@partner.example ... in $PKI"

say "Creating the keystore with smimectl (init, trust add, import, crl import)"
mkdir -p "$WORK/milter"
chmod 0711 "$WORK/milter"
cat >"$CONF" <<EOF
[daemon]
user = "root"
group = "postfix"   # Postfix's smtpd connects to the socket as postfix

[milter]
authserv_id = "$AUTHSERV_ID"
internal_hosts = [] # only SMTP AUTH makes mail outbound in this demo

[keystore]
path = "$WORK/milter/keystore.db"
secret_file = "$WORK/milter/keystore.secret"

[audit]             # smimectl records every keystore change here (fail closed)
database = "$WORK/milter/audit.db"

[[rule]]
name = "official"
sign = "required"
[rule.match]
sender = ["*@example.gov"]
EOF
printf 'test-pass\n' >"$WORK/p12-pass"
chmod 0600 "$WORK/p12-pass"
ctl init --create-secret
ctl trust add "$PKI/root.crt"
for who in alice bob; do
  ctl import "$PKI/$who.p12" --passphrase-file "$WORK/p12-pass"
done
for crl in root.crl inter.crl; do
  ctl crl import "$PKI/$crl"
done
ctl list || true

say "Starting smime-milter"
"$BUILD/milter/smime-milter" -f -c "$CONF" -p "local:$SOCKET" >"$WORK/milter/milter.log" 2>&1 &
MILTER_PID=$!
wait_for_socket() {
  for _ in $(seq 1 200); do
    [[ -S $SOCKET ]] && return 0
    kill -0 "$MILTER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "the milter did not create $SOCKET:" >&2
  cat "$WORK/milter/milter.log" >&2
  return 1
}

wait_for_socket
echo "milter pid $MILTER_PID listening on $SOCKET"

say "Starting a private Postfix instance (loopback only) with the milter"
"$ROOT/tests/harness/postfix-instance.sh" start "$PF_DIR" --milter "unix:$SOCKET" \
  --milter-default-action tempfail --sasl alice@example.gov:demo-pass >/dev/null
# shellcheck disable=SC1091
source "$PF_DIR/instance.env"


say "Preparing three messages"
openssl rand 3000 >"$WORK/laporan.bin"
ATTACH_SHA=$(sha256sum <"$WORK/laporan.bin" | cut -d' ' -f1)
cat >"$WORK/outbound.eml" <<EOF
From: Alice Wijaya <alice@example.gov>
To: Bob Santoso <bob@example.gov>
Subject: =?UTF-8?B?TGFwb3JhbiBrZXVhbmdhbiB0cml3dWxhbiBrZXRpZ2E=?=
Date: $(date -R)
Message-ID: <demo-out.$$@example.gov>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_demo_boundary"

--=_demo_boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Selamat pagi, Pak Bob.
Terlampir laporan keuangan triwulan ketiga (Rp 1.500.000,00) — mohon diperiksa.
Salam hangat dari Yogyakarta ☕

--=_demo_boundary
Content-Type: application/octet-stream; name="laporan.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="laporan.bin"

$(base64 -w 76 <"$WORK/laporan.bin")
--=_demo_boundary--
EOF
echo "1. outbound: alice@example.gov (SMTP AUTH) -> bob@example.gov, UTF-8 text + binary attachment"

# An outside partner signs with the openssl CLI (a third-party implementation).
printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nRapat koordinasi besok pukul 09.00 WIB.\r\n' \
  >"$WORK/partner-entity.txt"
openssl cms -sign -signer "$PKI/dave.crt" -inkey "$PKI/dave.key" -certfile "$PKI/inter.crt" \
  -in "$WORK/partner-entity.txt" >"$WORK/partner-signed.txt"
inbound_message() {  # inbound_message ID SUBJECT < signed MIME entity
  printf 'From: Dave Partner <dave@partner.example>\nTo: alice@example.gov\nSubject: %s\n' "$2"
  printf 'Date: %s\nMessage-ID: <%s.%s@partner.example>\n' "$(date -R)" "$1" "$$"
  printf 'Authentication-Results: %s; smime=pass (forged by the sender)\n' "$AUTHSERV_ID"
  cat
}
inbound_message demo-in "Rapat koordinasi" <"$WORK/partner-signed.txt" >"$WORK/inbound.eml"
sed 's/pukul 09\.00/pukul 07.00/' "$WORK/partner-signed.txt" |
  inbound_message demo-tampered "Rapat koordinasi (tampered)" >"$WORK/tampered.eml"
echo "2. inbound: dave@partner.example -> alice, signed, with a FORGED 'Authentication-Results: $AUTHSERV_ID; smime=pass'"
echo "3. inbound: the same signed message, one word changed after signing (forged AR too)"

say "Sending them through Postfix (swaks)"
swaks --silent 2 --server "127.0.0.1:$SMTP_PORT" --auth PLAIN --auth-user alice@example.gov \
  --auth-password demo-pass --from alice@example.gov --to bob@example.gov \
  --data "@$WORK/outbound.eml"
for m in inbound tampered; do
  swaks --silent 2 --server "127.0.0.1:$SMTP_PORT" --from dave@partner.example \
    --to alice@example.gov --data "@$WORK/$m.eml"
done
echo "3 messages accepted by Postfix"

say "Waiting for delivery to the smtp-sink"
for _ in $(seq 1 400); do
  if (($(find "$SINK_DIR" -type f | wc -l) >= 3)) &&
    [[ -z $(find "$QUEUE_DIR"/{incoming,active,deferred} -type f) ]]; then
    break
  fi
  sleep 0.05
done
sleep 0.2  # let smtp-sink close its last file

# The message in smtp-sink dump $1: everything after smtp-sink's own records and its
# folded "Received: ... (smtp-sink) ..." header.
message_of() {
  awk 'st == 2 { print; next }
       st == 0 && /\(smtp-sink\)/ { st = 1; next }
       st == 1 && /^[ \t]/ { next }
       st == 1 { st = 2; print }' "$1"
}

# Prints the header fields named in $2 (a regex) of message file $1, with continuations.
show_headers() {
  awk -v want="^($2):" '
    /^\r?$/ { exit }
    /^[^ \t]/ { keep = ($0 ~ want) }
    keep { print "  " $0 }' "$1"
}

# The decoded attachment laporan.bin of MIME text $1, as its sha256.
attachment_sha() {
  awk '/filename="laporan.bin"/ { p = 1; next }
       p && !body && /^\r?$/ { body = 1; next }
       body && /^--/ { exit }
       body { print }' "$1" | tr -d '\r' | base64 -d | sha256sum | cut -d' ' -f1
}

ok=1
check() {  # check DESCRIPTION COMMAND...: runs the command, prints PASS/FAIL
  if "${@:2}"; then
    echo "  PASS  $1"
  else
    echo "  FAIL  $1" >&2
    ok=0
  fi
}
found() { grep -q -- "$1" "$2"; }
absent() { ! grep -q -- "$1" "$2"; }

# The sink dump whose message carries Message-ID <$1.*>.
dump_for() { grep -l "^Message-ID: <$1\." "$SINK_DIR"/* 2>/dev/null | head -n 1; }

for m in out in tampered; do
  f=$(dump_for "demo-$m")
  if [[ -z $f ]]; then
    echo "message demo-$m did not arrive" >&2
    ok=0
    continue
  fi
  message_of "$f" >"$WORK/arrived-$m.eml"
done

if [[ -f $WORK/arrived-out.eml ]]; then
  A=$WORK/arrived-out.eml
  say "Arrived 1: outbound alice -> bob"
  show_headers "$A" "From|To|Subject|MIME-Version|Content-Type|Content-Transfer-Encoding"
  check "body is S/MIME enveloped-data" found 'smime-type=enveloped-data' "$A"
  check "no plaintext on the wire" absent 'Yogyakarta' "$A"
  echo "  \$ openssl cms -decrypt -recip bob.crt -inkey bob.key | openssl cms -verify -CAfile root.crt"
  check "openssl cms -decrypt with bob's key" \
    openssl cms -decrypt -recip "$PKI/bob.crt" -inkey "$PKI/bob.key" -in "$A" -out "$WORK/out-decrypted.eml"
  check "inner entity is multipart/signed" found 'multipart/signed' "$WORK/out-decrypted.eml"
  if openssl cms -verify -CAfile "$PKI/root.crt" -in "$WORK/out-decrypted.eml" \
    -out "$WORK/out-content.eml" -signer "$WORK/out-signer.pem" 2>"$WORK/out-verify.log"; then
    echo "  PASS  openssl cms -verify: $(tr -d '\n' <"$WORK/out-verify.log")," \
      "signer $(openssl x509 -in "$WORK/out-signer.pem" -noout -subject -nameopt oneline 2>/dev/null | head -n 1)"
  else
    echo "  FAIL  openssl cms -verify: $(cat "$WORK/out-verify.log")" >&2
    ok=0
  fi
  # The milter made the 8-bit text part 7-bit safe (quoted-printable) before signing.
  perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' "$WORK/out-content.eml" \
    >"$WORK/out-content.decoded"
  check "UTF-8 text intact after decrypt + verify (sent 8bit, signed as quoted-printable)" \
    found 'Salam hangat dari Yogyakarta ☕' "$WORK/out-content.decoded"
  got=$(attachment_sha "$WORK/out-content.eml")
  check "attachment laporan.bin intact (sha256 ${got:0:16}...)" test "$got" = "$ATTACH_SHA"
fi

# verify_inbound NAME WANT(pass|fail)
verify_inbound() {
  local A=$WORK/arrived-$1.eml want=$2 ars
  show_headers "$A" "From|Subject|Authentication-Results"
  ars=$(show_headers "$A" "Authentication-Results" | grep -c 'Authentication-Results:' || true)
  check "exactly one Authentication-Results (the forged one removed)" test "$ars" = 1
  check "ours says smime=$want" found "^Authentication-Results: $AUTHSERV_ID; smime=$want" "$A"
  check "forged 'forged by the sender' header gone" absent 'forged by the sender' "$A"
  echo "  \$ openssl cms -verify -CAfile root.crt"
  if openssl cms -verify -CAfile "$PKI/root.crt" -in "$A" -out /dev/null 2>"$WORK/$1-verify.log"; then
    local verdict=pass
  else
    local verdict=fail
  fi
  check "openssl cms -verify agrees ($verdict: $(head -n 1 "$WORK/$1-verify.log" | cut -c1-70))" \
    test "$verdict" = "$want"
}
if [[ -f $WORK/arrived-in.eml ]]; then
  say "Arrived 2: inbound, signed by dave@partner.example"
  verify_inbound in pass
fi
if [[ -f $WORK/arrived-tampered.eml ]]; then
  say "Arrived 3: inbound, tampered after signing"
  verify_inbound tampered fail
fi

say "The milter's log (one line per message)"
grep -v '^$' "$WORK/milter/milter.log" | tail -n 8 | cut -c1-220

say "Result"
if ((ok == 1)); then
  echo "demo OK: outbound signed + encrypted, inbound signature verified (smime=pass), tampered mail flagged (smime=fail); all confirmed by openssl cms"
else
  echo "demo FAILED (see FAIL lines above)" >&2
  echo "Postfix log:" >&2
  tail -n 20 "$LOG_FILE" >&2
  exit 1
fi
