#!/usr/bin/env bash
# ./demo.sh: install what is missing, build, run the gateway's milter behind a private
# loopback Postfix (tests/harness/postfix-instance.sh), push sample mail through it and
# show what arrived at the far side (an smtp-sink). Stops everything it started on exit.
# Exit status 0 when every sample arrived intact and carried the milter's header.
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
# The milter under demonstration. Today: the null milter (adds X-Null-Milter).
# To demo the product, replace start_milter and MILTER_HEADER (and seed its key store).
MILTER_HEADER=X-Null-Milter
start_milter() {
  mkdir -p "$WORK/milter"
  chmod 0711 "$WORK/milter"
  "$BUILD/tests/harness/null-milter" -p "local:$SOCKET" >"$WORK/milter/milter.log" 2>&1 &
  MILTER_PID=$!
}
# ---------------------------------------------------------------------------

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

say "Starting the milter"
start_milter
wait_for_socket
echo "milter pid $MILTER_PID listening on $SOCKET"

say "Starting a private Postfix instance (loopback only) with the milter"
"$ROOT/tests/harness/postfix-instance.sh" start "$PF_DIR" --milter "unix:$SOCKET" \
  --milter-default-action tempfail --sasl alice@example.org:demo-pass >/dev/null
# shellcheck disable=SC1091
source "$PF_DIR/instance.env"

say "Pushing sample mail (swaks)"
openssl rand 3000 >"$WORK/laporan.bin"
ATTACH_SHA=$(sha256sum <"$WORK/laporan.bin" | cut -d' ' -f1)
cat >"$WORK/message1.eml" <<EOF
From: Alice Wijaya <alice@example.org>
To: Bob Santoso <bob@example.net>
Subject: =?UTF-8?B?TGFwb3JhbiBrZXVhbmdhbiB0cml3dWxhbiBrZXRpZ2E=?=
Date: $(date -R)
Message-ID: <demo-1.$$@example.org>
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
cat >"$WORK/message2.eml" <<EOF
From: Bob Santoso <bob@example.net>
To: Alice Wijaya <alice@example.org>, Carol <carol@example.com>
Subject: Re: laporan
Date: $(date -R)
Message-ID: <demo-2.$$@example.net>

Terima kasih, sudah saya terima.
EOF

swaks --silent 2 --server "127.0.0.1:$SMTP_PORT" --auth PLAIN --auth-user alice@example.org \
  --auth-password demo-pass --from alice@example.org --to bob@example.net \
  --data "@$WORK/message1.eml"
echo "message 1: alice (SMTP AUTH) -> bob, UTF-8 text + binary attachment: queued"
swaks --silent 2 --server "127.0.0.1:$SMTP_PORT" --from bob@example.net \
  --to alice@example.org,carol@example.com --data "@$WORK/message2.eml"
echo "message 2: bob (no AUTH) -> alice, carol: queued"

say "Waiting for delivery to the smtp-sink"
for _ in $(seq 1 400); do
  if (($(find "$SINK_DIR" -type f | wc -l) >= 2)) &&
    [[ -z $(find "$QUEUE_DIR"/{incoming,active,deferred} -type f) ]]; then
    break
  fi
  sleep 0.05
done
sleep 0.2  # let smtp-sink close its last file

# Prints the header fields named in $2 (a regex) of the message in smtp-sink dump $1,
# with their continuation lines. The message starts after smtp-sink's own records and
# its three-line "Received: ... (smtp-sink) ..." header.
show_headers() {
  awk -v want="^($2):" '
    st == 0 && /\(smtp-sink\)/ { st = 1; next }
    st == 1 && /^[ \t]/ { next }
    st == 1 { st = 2 }
    st == 2 && /^$/ { exit }
    st == 2 && /^[^ \t]/ { keep = ($0 ~ want) }
    st == 2 && keep { print "  " $0 }' "$1"
}

# The decoded attachment laporan.bin of dump $1, as its sha256.
attachment_sha() {
  awk '/filename="laporan.bin"/ { p = 1; next }
       p && !body && /^$/ { body = 1; next }
       body && /^--/ { exit }
       body { print }' "$1" | base64 -d | sha256sum | cut -d' ' -f1
}

ok=1
n=0
rcpts=0
attachments=0
# smtp-sink names each dump after its arrival time (%Y%m%d%H%M%S.<random>).
for file in "$SINK_DIR"/*; do
  [[ -f $file ]] || continue
  n=$((n + 1))
  say "Arrived #$n ($(basename "$file"))"
  sed -n 's/^X-Mail-Args: /envelope from: /p; s/^X-Rcpt-Args: /envelope to:   /p' "$file"
  rcpts=$((rcpts + $(grep -c '^X-Rcpt-Args:' "$file")))
  show_headers "$file" "Received|$MILTER_HEADER|From|To|Subject"
  if ! grep -q "^$MILTER_HEADER: " "$file"; then
    echo "  MISSING: $MILTER_HEADER" >&2
    ok=0
  fi
  if grep -q 'filename="laporan.bin"' "$file"; then
    attachments=$((attachments + 1))
    got=$(attachment_sha "$file")
    if [[ $got == "$ATTACH_SHA" ]]; then
      echo "  attachment laporan.bin: intact (sha256 $got)"
    else
      echo "  attachment laporan.bin: CHANGED (sha256 $got, sent $ATTACH_SHA)" >&2
      ok=0
    fi
    if grep -q 'Salam hangat dari Yogyakarta ☕' "$file"; then
      echo "  UTF-8 text: intact"
    else
      echo "  UTF-8 text: CHANGED" >&2
      ok=0
    fi
  fi
done

say "Result"
# Postfix may deliver message 2 to its two recipients in one or two transactions.
if ((ok == 1 && rcpts == 3 && attachments == 1)); then
  echo "demo OK: 2 messages (3 recipients) went through Postfix and the milter and arrived intact"
else
  echo "demo FAILED: $n deliveries, $rcpts of 3 recipients, $attachments of 1 attachment, checks ok=$ok" >&2
  echo "Postfix log:" >&2
  tail -n 20 "$LOG_FILE" >&2
  exit 1
fi
