#!/usr/bin/env bash
# packaging_deb: the Debian package end to end, on this machine (CI is root on a
# throwaway machine; this is what issue 8 asks for).
#   deb_test.sh BUILD_DIR SOURCE_DIR
# 1. cpack builds smime-milter_<version>_amd64.deb from BUILD_DIR; dpkg-deb -c lists the
#    binaries, conffile, units, man pages, completion with the right modes; lintian: no
#    errors.
# 2. apt-get install ./smime-milter_*.deb: system user, 0750 state and socket
#    directories, conffile 0640 root:smime-milter, postfix in group smime-milter;
#    systemd-analyze verify on the installed units; `systemd-analyze security --offline`
#    score printed for the record.
# 3. smime-milter --check-config on the installed conffile; the installed binary runs in
#    the foreground (as user smime-milter) against a private Postfix instance and one
#    message goes through it (Authentication-Results from the milter in the sink).
# 4. apt-get remove keeps keystore and trail; apt-get purge removes them and the user.
set -euo pipefail
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
exec 9>/tmp/smime-milter-deb-test.lock
flock 9

WORK=$(mktemp -d /tmp/smime-deb-XXXXXX)
PFX=""
MILTER_PID=""
cleanup() {
  set +e
  [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null && wait "$MILTER_PID" 2>/dev/null
  [ -n "$PFX" ] && "$SRC/tests/harness/postfix-instance.sh" stop "$PFX" >/dev/null 2>&1
  if dpkg -s smime-milter >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y smime-milter >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
check_stat() {  # path expected "mode owner:group"
  local got
  got=$(stat -c '%a %U:%G' "$1") || fail "$1 missing"
  [ "$got" = "$2" ] || fail "$1 is $got, expected $2"
  echo "ok: $1 $got"
}
export DEBIAN_FRONTEND=noninteractive

echo "== build the package"
(cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/out" >cpack.log 2>&1) ||
  { cat "$WORK/cpack.log"; fail "cpack"; }
DEB=$(ls "$WORK"/out/smime-milter_*_amd64.deb) || fail "no smime-milter_*_amd64.deb"
echo "built $(basename "$DEB")"

echo "== contents and metadata"
dpkg-deb -c "$DEB" >"$WORK/contents"
while read -r mode path; do
  grep -Eq "^$mode .* \./${path}\$" "$WORK/contents" || { cat "$WORK/contents"; fail "$path ($mode) not in package"; }
done <<'LIST'
-rwxr-xr-x usr/sbin/smime-milter
-rwxr-xr-x usr/sbin/smimectl
-rw-r--r-- etc/smime-milter/smime-milter.conf
-rw-r--r-- lib/systemd/system/smime-milter.service
-rw-r--r-- lib/systemd/system/smime-milter-expiring.service
-rw-r--r-- lib/systemd/system/smime-milter-expiring.timer
-rw-r--r-- usr/share/man/man8/smime-milter.8.gz
-rw-r--r-- usr/share/man/man8/smimectl.8.gz
-rw-r--r-- usr/share/man/man5/smime-milter.conf.5.gz
-rw-r--r-- usr/share/bash-completion/completions/smimectl
-rw-r--r-- usr/share/doc/smime-milter/copyright
-rw-r--r-- usr/share/doc/smime-milter/changelog.Debian.gz
LIST
dpkg-deb -f "$DEB" Depends | tee "$WORK/depends"
for lib in libc6 libssl3 libsqlite3 libmilter; do
  grep -q "$lib" "$WORK/depends" || fail "Depends lacks $lib (shlibdeps)"
done
dpkg-deb -e "$DEB" "$WORK/control"
grep -qx /etc/smime-milter/smime-milter.conf "$WORK/control/conffiles" || fail "conffile not declared"

echo "== lintian"
lintian --no-tag-display-limit "$DEB" | tee "$WORK/lintian.txt" || true
if grep -q '^E: ' "$WORK/lintian.txt"; then
  fail "lintian reports errors"
fi

echo "== install"
if dpkg -s smime-milter >/dev/null 2>&1; then
  apt-get purge -y smime-milter >/dev/null
fi
(cd "$(dirname "$DEB")" && apt-get install -y "./$(basename "$DEB")") >"$WORK/apt.log" 2>&1 ||
  { cat "$WORK/apt.log"; fail "apt-get install"; }
getent passwd smime-milter >/dev/null || fail "no smime-milter user"
[ "$(getent passwd smime-milter | cut -d: -f7)" = /usr/sbin/nologin ] || fail "login shell"
id -nG postfix | tr ' ' '\n' | grep -qx smime-milter || fail "postfix not in group smime-milter"
check_stat /usr/sbin/smime-milter "755 root:root"
check_stat /usr/sbin/smimectl "755 root:root"
check_stat /etc/smime-milter "750 root:smime-milter"
check_stat /etc/smime-milter/smime-milter.conf "640 root:smime-milter"
check_stat /var/lib/smime-milter "750 smime-milter:smime-milter"
check_stat /var/spool/postfix/smime-milter "750 smime-milter:smime-milter"
man -w smimectl >/dev/null || fail "man smimectl"
man -w 5 smime-milter.conf >/dev/null || fail "man 5 smime-milter.conf"

echo "== systemd units"
for u in smime-milter.service smime-milter-expiring.service smime-milter-expiring.timer; do
  systemd-analyze verify "/lib/systemd/system/$u" 2>&1 | tee "$WORK/verify.txt"
  if [ -s "$WORK/verify.txt" ]; then
    fail "systemd-analyze verify $u reported problems"
  fi
done
echo "systemd-analyze security (offline, for the record):"
systemd-analyze security --offline=yes /lib/systemd/system/smime-milter.service 2>&1 | tail -n 3 || true

echo "== check-config on the installed conffile"
/usr/sbin/smime-milter --check-config /etc/smime-milter/smime-milter.conf >"$WORK/check.txt" 2>&1 ||
  { cat "$WORK/check.txt"; fail "--check-config"; }
grep -q 'socket' "$WORK/check.txt" || fail "--check-config printed no configuration"

echo "== the installed binary against a private Postfix"
RUN=$WORK/run
install -d -m 0750 -o smime-milter -g smime-milter "$RUN"
chmod 0711 "$WORK"
cat >"$RUN/smime-milter.conf" <<CONF
[daemon]
socket = "local:$RUN/milter.sock"
pid_file = "$RUN/smime-milter.pid"
[milter]
authserv_id = "mx.deb-test.example"
internal_hosts = []
[keystore]
path = "$RUN/keystore.db"
secret_file = "$RUN/keystore.secret"
[audit]
database = "$RUN/audit.db"
CONF
chown smime-milter:smime-milter "$RUN/smime-milter.conf"
chmod 0640 "$RUN/smime-milter.conf"
runuser -u smime-milter -- /usr/sbin/smimectl -c "$RUN/smime-milter.conf" init --create-secret >/dev/null
/usr/sbin/smime-milter --foreground -c "$RUN/smime-milter.conf" >"$WORK/milter.log" 2>&1 &
MILTER_PID=$!
for _ in $(seq 100); do
  [ -S "$RUN/milter.sock" ] && break
  kill -0 "$MILTER_PID" 2>/dev/null || { cat "$WORK/milter.log"; fail "smime-milter exited"; }
  sleep 0.1
done
[ -S "$RUN/milter.sock" ] || { cat "$WORK/milter.log"; fail "no milter socket"; }
[ "$(stat -c %U "$RUN/milter.sock")" = smime-milter ] || fail "daemon did not run as smime-milter"
PFX=$WORK/pfx
"$SRC/tests/harness/postfix-instance.sh" start "$PFX" --milter "unix:$RUN/milter.sock" >/dev/null
# shellcheck disable=SC1091
. "$PFX/instance.env"
swaks --silent 2 --server 127.0.0.1 --port "$SMTP_PORT" --from sender@example.net \
  --to staff@example.gov --header 'Subject: deb test' --body 'hello' ||
  { cat "$WORK/milter.log" "$LOG_FILE"; fail "SMTP submission"; }
for _ in $(seq 150); do
  ls "$SINK_DIR"/* >/dev/null 2>&1 && break
  sleep 0.2
done
MSG=$(ls "$SINK_DIR"/* 2>/dev/null | head -n 1)
[ -n "$MSG" ] || { cat "$LOG_FILE"; fail "message not delivered"; }
grep -q '^Authentication-Results: mx.deb-test.example; smime=none' "$MSG" ||
  { cat "$MSG"; fail "no Authentication-Results from the installed milter"; }
echo "ok: delivered through the installed smime-milter"
/usr/sbin/smimectl -c "$RUN/smime-milter.conf" status --json >"$WORK/status.json" || true
grep -q '"name": "socket"' "$WORK/status.json" || fail "smimectl status"
"$SRC/tests/harness/postfix-instance.sh" stop "$PFX" >/dev/null
PFX=""
kill "$MILTER_PID"
wait "$MILTER_PID" || true
MILTER_PID=""

echo "== remove keeps keystore and trail, purge deletes them"
runuser -u smime-milter -- /usr/sbin/smimectl --db /var/lib/smime-milter/keystore.db \
  init --secret-file /var/lib/smime-milter/test.secret --create-secret >/dev/null
apt-get remove -y smime-milter >/dev/null 2>&1 || fail "apt-get remove"
[ ! -e /usr/sbin/smime-milter ] || fail "binary left after remove"
[ -f /var/lib/smime-milter/keystore.db ] || fail "remove deleted the keystore"
[ -f /etc/smime-milter/smime-milter.conf ] || fail "remove deleted the conffile"
getent passwd smime-milter >/dev/null || fail "remove deleted the user"
apt-get purge -y smime-milter >/dev/null 2>&1 || fail "apt-get purge"
[ ! -e /var/lib/smime-milter ] || fail "purge kept /var/lib/smime-milter"
[ ! -e /etc/smime-milter ] || fail "purge kept /etc/smime-milter"
! getent passwd smime-milter >/dev/null || fail "purge kept the user"
echo "PASS"
