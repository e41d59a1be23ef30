# bench/lib.sh: the end-to-end and memory pieces of bench/run.sh (sourced; needs ROOT,
# BENCH, BUILD, WORK, OUT). Every process started here is stopped by bench_cleanup.
# shellcheck shell=bash

HARNESS=$ROOT/tests/harness/postfix-instance.sh
PKI=$WORK/pki
AUTHSERV_ID=mx.bench.example
FILTER_PID=
FILTER_CFG=
PF_DIR=

bench_cleanup() {
  local rc=$?
  set +e
  stop_filter
  [[ -z $PF_DIR ]] || "$HARNESS" stop "$PF_DIR"
  if [[ -n ${BENCH_KEEP:-} ]]; then
    echo "work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}

machine_line() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  printf '%s cores, %s, %s, %s, Postfix %s' "$(nproc)" "$cpu" "$(openssl version | cut -d' ' -f1-2)" \
    "$(. /etc/os-release && echo "$PRETTY_NAME")" "$(postconf -d -h mail_version 2>/dev/null)"
}

# A leaf certificate NAME for EMAIL issued by the PKI's issuing CA (as make_pki.sh does).
extra_leaf() {
  local name=$1 email=$2
  (
    cd "$PKI" || exit 1
    export OPENSSL_CONF=/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
    openssl req -new -key "$name.key" -out "$name.csr" -subj "/C=ID/O=Bench/CN=$name/emailAddress=$email" 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment" \
      "extendedKeyUsage=emailProtection" "subjectKeyIdentifier=hash" \
      "authorityKeyIdentifier=keyid" "subjectAltName=email:$email" >"$name.ext"
    openssl ca -batch -config inter.cnf -in "$name.csr" -out "$name.crt" -days 30 \
      -extfile "$name.ext" -notext 2>/dev/null
  )
}

# The message files (-F of smtp-source): From alice, 10 KB (or SIZE) text body, CRLF.
make_message() {  # make_message SIZE FILE
  local size=$1 file=$2
  {
    printf 'From: Alice <alice@example.gov>\r\nTo: bob@example.gov\r\nSubject: bench %s\r\n' "$size"
    printf 'Message-ID: <bench-%s@example.gov>\r\nMIME-Version: 1.0\r\n' "$size"
    printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
    # 78-byte lines + CRLF up to SIZE bytes of body (awk: no SIGPIPE under pipefail).
    awk -v n="$size" 'BEGIN { l = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"
      for (i = 0; i + 80 <= n; i += 80) printf "%s\r\n", l }'
  } >"$file"
}

milter_conf() {  # milter_conf FILE INTERNAL_HOSTS
  cat >"$1" <<EOF
[daemon]
user = "root"
group = "postfix"
log_level = "info"

[milter]
authserv_id = "$AUTHSERV_ID"
internal_hosts = $2

[keystore]
path = "$WORK/milter/keystore.db"
secret_file = "$WORK/milter/keystore.secret"

[audit]
database = "$WORK/milter/audit.db"

[[rule]]
name = "official"
sign = "required"
encrypt = "if-possible"
[rule.match]
sender = ["*@example.gov"]
direction = "outbound"
EOF
}

bench_setup() {
  "$ROOT/tests/common/make_pki.sh" "$PKI" >"$WORK/make_pki.log" 2>&1 ||
    { cat "$WORK/make_pki.log" >&2; return 1; }
  extra_leaf bob2 2bob@example.gov
  extra_leaf bob3 3bob@example.gov
  mkdir -p "$WORK/milter" "$WORK/sock" "$WORK/msg"
  chmod 0711 "$WORK/milter"
  chmod 0777 "$WORK/sock"
  milter_conf "$WORK/milter/outbound.conf" '["127.0.0.0/8"]'
  milter_conf "$WORK/milter/inbound.conf" '[]'
  printf 'test-pass\n' >"$WORK/p12-pass"
  chmod 0600 "$WORK/p12-pass"
  local ctl=("$BUILD/cli/smimectl" -c "$WORK/milter/outbound.conf")
  {
    "${ctl[@]}" init --create-secret
    "${ctl[@]}" trust add "$PKI/root.crt"
    "${ctl[@]}" import "$PKI/alice.p12" --passphrase-file "$WORK/p12-pass" --owner Alice
    "${ctl[@]}" import "$PKI/bob.p12" --passphrase-file "$WORK/p12-pass" --owner Bob
    "${ctl[@]}" import "$PKI/bob2.crt" --owner "Bob Dua"
    "${ctl[@]}" import "$PKI/bob3.crt" --owner "Bob Tiga"
    "${ctl[@]}" crl import "$PKI/root.crl"
    "${ctl[@]}" crl import "$PKI/inter.crl"
  } >"$WORK/keystore.log" 2>&1 || { cat "$WORK/keystore.log" >&2; return 1; }

  # Inbound mail: signed by alice with the openssl CLI (an outside sender's client).
  local size
  for size in 2048 10240 102400 1048576; do
    make_message "$size" "$WORK/msg/plain-$size.eml"
  done
  {
    printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
    awk 'p { print } /^\r?$/ && !p { p = 1 }' "$WORK/msg/plain-10240.eml"
  } >"$WORK/msg/entity.txt"
  {
    printf 'From: Alice <alice@example.gov>\r\nTo: bob@example.gov\r\nSubject: signed\r\n'
    printf 'Message-ID: <bench-signed@example.gov>\r\n'
    openssl cms -sign -signer "$PKI/alice.crt" -inkey "$PKI/alice.key" \
      -certfile "$PKI/inter.crt" -in "$WORK/msg/entity.txt" -binary
  } >"$WORK/msg/signed-10240.eml"

  # OpenDKIM: its own private configuration and a key made by opendkim-genkey.
  mkdir -p "$WORK/dkim"
  opendkim-genkey -D "$WORK/dkim" -d example.gov -s bench -b 2048
  chmod 0600 "$WORK/dkim/bench.private"
  # The openssl CLI content filter: runs as nobody, needs the signing key.
  mkdir -p "$WORK/cli"
  cp "$PKI/alice.crt" "$PKI/alice.key" "$PKI/inter.crt" "$WORK/cli/"
  chown -R nobody "$WORK/cli"
  chmod 0700 "$WORK/cli"
}

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    [[ -n $(ss -Htan "( sport = :$p )" 2>/dev/null) ]] || { echo "$p"; return; }
  done
}

# Starts the filter of configuration $1 on socket kind $2; sets FILTER_PID, MILTER_SPEC
# (Postfix syntax) and FILTER_LOG.
start_filter() {
  local cfg=$1 sock=$2 lspec port=
  FILTER_CFG=$cfg
  FILTER_LOG=$WORK/filter-$cfg-$sock.log
  if [[ $sock == unix ]]; then
    local path=$WORK/sock/$cfg.sock
    rm -f "$path"
    lspec=local:$path
    MILTER_SPEC=unix:$path
  else
    port=$(free_port)
    lspec=inet:$port@127.0.0.1
    MILTER_SPEC=inet:127.0.0.1:$port
  fi
  case $cfg in
    null) "$BUILD/tests/harness/null-milter" -t -p "$lspec" >"$FILTER_LOG" 2>&1 & ;;
    sign | enc1 | enc3)
      ${BENCH_MILTER_WRAP:-} "$BUILD/milter/smime-milter" -f -c "$WORK/milter/outbound.conf" -p "$lspec" >"$FILTER_LOG" 2>&1 & ;;
    verify)
      ${BENCH_MILTER_WRAP:-} "$BUILD/milter/smime-milter" -f -c "$WORK/milter/inbound.conf" -p "$lspec" >"$FILTER_LOG" 2>&1 & ;;
    opendkim)
      cat >"$WORK/dkim/opendkim.conf" <<EOF
Syslog no
Mode s
Domain example.gov
Selector bench
KeyFile $WORK/dkim/bench.private
Socket $lspec
UMask 000
InternalHosts 127.0.0.1
Canonicalization relaxed/simple
# The key lies below /tmp (world-writable, sticky): opendkim would refuse the path.
RequireSafeKeys false
EOF
      opendkim -f -x "$WORK/dkim/opendkim.conf" >"$FILTER_LOG" 2>&1 & ;;
  esac
  FILTER_PID=$!
  for _ in $(seq 1 600); do
    # A unix socket counts only once Postfix's smtpd may connect: smime-milter gives it
    # to group postfix, the null milter makes it 0666, both just after bind().
    if [[ $sock == unix && -S ${lspec#local:} &&
      -n $(find "${lspec#local:}" -maxdepth 0 \( -perm -o=w -o \( -group postfix -perm -g=w \) \) 2>/dev/null) ]] ||
      [[ $sock == tcp && -n $(ss -Htln "( sport = :$port )" 2>/dev/null | head -c1) ]]; then
      return 0
    fi
    kill -0 "$FILTER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "filter $cfg did not start:" >&2
  cat "$FILTER_LOG" >&2
  return 1
}

# SIGTERM; smime-milter gets 30 s to finish (its log must be complete), the stock
# libmilter programs (null, opendkim) 1 s: libmilter's listener only looks at its stop
# flag every 5 s (MI_CHK_TIME), and neither has anything left to write (the null
# milter's eom_ms lines go unbuffered to stderr).
stop_filter() {
  if [[ -n $FILTER_PID ]]; then
    local grace=20 i
    [[ $FILTER_CFG == null || $FILTER_CFG == opendkim ]] || grace=600
    kill "$FILTER_PID" 2>/dev/null
    for ((i = 0; i < grace; i++)); do
      kill -0 "$FILTER_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$FILTER_PID" 2>/dev/null || true
    wait "$FILTER_PID" 2>/dev/null || true
    FILTER_PID=
  fi
  return 0
}

cpu_ticks() {  # utime + stime of pid $1, in clock ticks
  local s
  s=$(cat "/proc/$1/stat")
  s=${s##*) }
  awk '{ print $12 + $13 }' <<<"$s"
}

vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# The message in smtp-sink dump $1 (after the sink's own records and Received header).
message_of() {
  awk 'st == 2 { print; next }
       st == 0 && /\(smtp-sink\)/ { st = 1; next }
       st == 1 && /^[ \t]/ { next }
       st == 1 { st = 2; print }' "$1"
}

# Checks that sink dump $2 was really processed by configuration $1.
check_processed() {
  local cfg=$1 dump=$2 m=$WORK/check.eml
  message_of "$dump" >"$m"
  case $cfg in
    none) grep -q 'Lorem ipsum' "$m" ;;
    null) grep -q '^X-Null-Milter: ' "$m" ;;
    opendkim) grep -q '^DKIM-Signature: .*d=example.gov' "$m" ;;
    sign | cli)
      grep -qi 'multipart/signed' "$m" &&
        openssl cms -verify -CAfile "$PKI/root.crt" -in "$m" -out /dev/null 2>/dev/null ;;
    enc1 | enc3)
      grep -q 'smime-type=enveloped-data' "$m" && ! grep -q 'Lorem ipsum' "$m" &&
        openssl cms -decrypt -recip "$PKI/bob.crt" -inkey "$PKI/bob.key" -in "$m" 2>/dev/null |
        openssl cms -verify -CAfile "$PKI/root.crt" -out /dev/null 2>/dev/null ;;
    verify) grep -q "^Authentication-Results: $AUTHSERV_ID; smime=pass" "$m" ;;
    *) return 1 ;;
  esac
}

# The openssl CLI content filter: Postfix pipes every message to bench/cli_filter.sh,
# which signs it with `openssl cms -sign` and re-injects it over SMTP into a second
# smtpd without the filter.
setup_cli_filter() {
  local reinject
  reinject=$(free_port)
  cat >>"$CONFIG_DIR/master.cf" <<EOF
clifilter unix - n n - - pipe flags=q user=nobody null_sender=
  argv=$BENCH/cli_filter.sh $WORK/cli $reinject \${sender} \${recipient}
127.0.0.1:$reinject inet n - n - - smtpd -o content_filter= -o smtpd_milters=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks
EOF
  postconf -c "$CONFIG_DIR" -e content_filter=clifilter:dummy clifilter_destination_recipient_limit=1
  postfix -c "$CONFIG_DIR" reload >/dev/null 2>&1
  for _ in $(seq 1 100); do
    [[ -n $(ss -Htln "( sport = :$reinject )" 2>/dev/null | head -c1) ]] && return 0
    sleep 0.1
  done
  echo "re-injection smtpd on $reinject did not start" >&2
  return 1
}

percentile() {  # percentile P < numbers
  sort -g | awk -v p="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "null"; exit }
    i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

# The milter's own per-message timing: the eom_ms=<float> of each per-message log line
# (smime-milter's info line, null-milter -t) of FILTER_LOG into OUT/eom/<name>.txt, one
# value a line, for report.py's percentiles. Prints the count.
save_eom() {  # save_eom NAME
  mkdir -p "$OUT/eom"
  { grep -o 'eom_ms=[0-9.]*' "$FILTER_LOG" || true; } | cut -d= -f2 >"$OUT/eom/$1.txt"
  wc -l <"$OUT/eom/$1.txt"
}

# Seconds since the epoch of the newest file in directory $1 (the sink's last dump).
newest_mtime() { find "$1" -type f -printf '%T@\n' | sort -n | tail -n 1; }

# One end-to-end run; prints one JSON object. e2e_run CFG SOCK SESSIONS MESSAGES SIZE
e2e_run() {
  local cfg=$1 sock=$2 sessions=$3 msgs=$4 size=$5
  local label="$cfg/$sock/s$sessions/${size}B" wall0
  wall0=$(date +%s.%N)
  echo "  run $label: $msgs messages" >&2
  MILTER_SPEC=
  FILTER_PID=
  FILTER_LOG=
  case $cfg in none | cli) ;; *) start_filter "$cfg" "$sock" ;; esac
  PF_DIR=$WORK/pf-$cfg-$sock-$sessions-$size
  local pf_opts=(-o "message_size_limit=0" -o "default_process_limit=200")
  [[ -z $MILTER_SPEC ]] || pf_opts+=(--milter "$MILTER_SPEC")
  local tries
  for tries in 1 2 3; do
    "$HARNESS" start "$PF_DIR" "${pf_opts[@]}" >/dev/null && break
    [[ $tries == 3 ]] && return 1
  done
  # shellcheck disable=SC1091
  source "$PF_DIR/instance.env"
  [[ $cfg != cli ]] || setup_cli_filter

  local file=$WORK/msg/plain-$size.eml rcpt=(-r 1)
  [[ $cfg == verify ]] && file=$WORK/msg/signed-$size.eml
  [[ $cfg == enc3 ]] && rcpt=(-r 3)
  local to=bob@example.gov
  [[ $cfg == sign || $cfg == cli ]] && to=someone@elsewhere.example
  local cpu0=0 cpu1=0 t0 t1 tick
  tick=$(getconf CLK_TCK)
  [[ -z $FILTER_PID ]] || cpu0=$(cpu_ticks "$FILTER_PID")
  t0=$(date +%s.%N)
  smtp-source -s "$sessions" -m "$msgs" -F "$file" -f alice@example.gov -t "$to" "${rcpt[@]}" \
    "127.0.0.1:$SMTP_PORT" 2>"$WORK/smtp-source.err" &
  local src=$!
  # Done when the sink holds every message; stalled when nothing arrives for 60 s. The
  # end time is the newest dump's mtime, so polling (a directory scan that competes for
  # the CPU being measured) can be slow without making the run look longer.
  local got=0 last=0 still=0
  while :; do
    got=$(find "$SINK_DIR" -type f | wc -l)
    ((got >= msgs)) && break
    if ((got == last)); then
      ((++still > 120)) && break
    else
      still=0
      last=$got
    fi
    sleep 0.5
  done
  t1=$(date +%s.%N)
  ((got == 0)) || t1=$(newest_mtime "$SINK_DIR")
  wait "$src" || true
  [[ -z $FILTER_PID ]] || cpu1=$(cpu_ticks "$FILTER_PID")
  local hwm=null
  [[ -z $FILTER_PID ]] || hwm=$(vm_hwm_kb "$FILTER_PID")
  sleep 0.3
  got=$(find "$SINK_DIR" -type f | wc -l)
  local cpu_s
  cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t }')
  if [[ $cfg == cli ]]; then  # the filter's children (openssl, bash) as bash's `times` saw them
    cpu_s=$(awk '{ s += $1 } END { printf "%.3f", s }' "$WORK/cli/cpu.log" 2>/dev/null || echo 0)
    rm -f "$WORK/cli/cpu.log"
  fi

  # Validity: counts, no milter trouble in Postfix's log, a sample really processed.
  local log=$LOG_FILE sent warnings milter_warn
  sent=$(grep -c ' status=sent ' "$log" || true)
  warnings=$(grep -c ': warning: ' "$log" || true)
  milter_warn=$(grep -E ': (warning|error): .*milter' "$log" | grep -c . || true)
  local checked=0 bad=0 f
  for f in $(find "$SINK_DIR" -type f | shuf -n 5 --random-source=<(yes)); do
    ((++checked))
    check_processed "$cfg" "$f" || { ((++bad)); cp "$f" "$OUT/bad-$cfg-$sock-$sessions.eml"; }
  done
  local expected=$msgs
  [[ $cfg == cli ]] && expected=$((msgs * 2))   # the filter hop and the re-injected hop
  [[ $cfg == enc3 ]] && expected=$((msgs * 3))  # one status=sent line per recipient
  local valid=true why=""
  ((got == msgs)) || { valid=false; why+="sink got $got of $msgs; "; }
  ((sent == expected)) || { valid=false; why+="postfix status=sent $sent, want $expected; "; }
  ((milter_warn == 0)) || { valid=false; why+="$milter_warn milter warnings; "; }
  ((bad == 0)) || { valid=false; why+="$bad of $checked sampled messages not processed; "; }
  [[ ! -s $WORK/smtp-source.err ]] || { valid=false; why+="smtp-source: $(head -c 200 "$WORK/smtp-source.err" | tr '\n"' '  '); "; }
  if [[ $valid == false ]]; then
    echo "    INVALID: $why" >&2
    grep -E ': (warning|error|fatal): ' "$log" | head -n 5 >&2 || true
  fi
  # MTA view of latency: Postfix's delays=a/b/c/d; a is the time before the queue
  # manager (SMTP receipt including the milter), total = sum. The milter's own timing
  # (eom_ms) is saved below, once the filter has exited and flushed its log.
  local a_p50 a_p99 tot_p50 tot_p99
  { grep ' status=sent ' "$log" || true; } | sed -n 's/.* delays=\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\)\/\([0-9.]*\),.*/\1 \2 \3 \4/p' \
    >"$WORK/delays.txt"
  a_p50=$(awk '{ print $1 }' "$WORK/delays.txt" | percentile 50)
  a_p99=$(awk '{ print $1 }' "$WORK/delays.txt" | percentile 99)
  tot_p50=$(awk '{ print $1 + $2 + $3 + $4 }' "$WORK/delays.txt" | percentile 50)
  tot_p99=$(awk '{ print $1 + $2 + $3 + $4 }' "$WORK/delays.txt" | percentile 99)
  local milter_log_errors=0
  [[ -z $FILTER_LOG || ! -f $FILTER_LOG ]] ||
    milter_log_errors=$(grep -ciE '\b(error|critical)\b' "$FILTER_LOG" || true)

  stop_filter
  local eom_file="" eom_count=0
  case $cfg in
    null | sign | enc1 | enc3 | verify)
      eom_file=eom/$cfg-$sock-s$sessions-$size.txt
      eom_count=$(save_eom "$cfg-$sock-s$sessions-$size")
      if ((eom_count != msgs)); then
        valid=false
        why+="the milter logged eom_ms for $eom_count of $msgs messages; "
        echo "    INVALID: eom_ms lines $eom_count, want $msgs" >&2
      fi ;;
  esac
  "$HARNESS" stop "$PF_DIR"
  PF_DIR=
  local wall
  wall=$(awk -v a="$wall0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  awk -v cfg="$cfg" -v sock="$sock" -v s="$sessions" -v m="$msgs" -v size="$size" \
    -v t0="$t0" -v t1="$t1" -v got="$got" -v cpu="$cpu_s" -v hwm="$hwm" -v w="$warnings" \
    -v mw="$milter_warn" -v me="$milter_log_errors" -v valid="$valid" -v why="$why" \
    -v a50="$a_p50" -v a99="$a_p99" -v t50="$tot_p50" -v t99="$tot_p99" -v chk="$checked" \
    -v ef="$eom_file" -v ec="$eom_count" -v wall="$wall" \
    'BEGIN {
      el = t1 - t0
      printf "{\"config\":\"%s\",\"socket\":\"%s\",\"sessions\":%d,\"messages\":%d,\"size\":%d,", cfg, sock, s, m, size
      printf "\"seconds\":%.3f,\"delivered\":%d,\"msgs_per_s\":%.2f,", el, got, got / el
      printf "\"filter_cpu_s\":%s,\"filter_cpu_ms_per_msg\":%.4f,\"peak_rss_kb\":%s,", cpu, cpu * 1000 / m, hwm
      printf "\"latency_a_p50_s\":%s,\"latency_a_p99_s\":%s,\"latency_total_p50_s\":%s,\"latency_total_p99_s\":%s,", a50, a99, t50, t99
      printf "\"postfix_warnings\":%d,\"postfix_milter_warnings\":%d,\"filter_log_errors\":%d,\"sampled\":%d,", w, mw, me, chk
      printf "\"eom_file\":%s,\"eom_count\":%d,\"wall_s\":%s,", (ef == "" ? "null" : "\"" ef "\""), ec, wall
      printf "\"valid\":%s,\"invalid_reason\":\"%s\"}\n", valid, why
    }'
}

# Memory: smime-milter's VmHWM with 100 idle connections and after one big message.
memory_runs() {  # memory_runs BIG_MESSAGE_BYTES
  local big=$1
  start_filter sign unix
  local base idle
  base=$(vm_hwm_kb "$FILTER_PID")
  python3 "$BENCH/idle_conns.py" "$WORK/sock/sign.sock" 100 "$FILTER_PID" >"$WORK/idle.json"
  idle=$(vm_hwm_kb "$FILTER_PID")
  stop_filter

  start_filter sign unix
  PF_DIR=$WORK/pf-memory
  "$HARNESS" start "$PF_DIR" -o message_size_limit=0 --milter "$MILTER_SPEC" >/dev/null
  # shellcheck disable=SC1091
  source "$PF_DIR/instance.env"
  make_message "$big" "$WORK/msg/big.eml"
  local before after
  before=$(vm_hwm_kb "$FILTER_PID")
  smtp-source -m 1 -F "$WORK/msg/big.eml" -f alice@example.gov -t someone@elsewhere.example \
    "127.0.0.1:$SMTP_PORT" 2>"$WORK/smtp-source.err" || true
  local got=0
  for _ in $(seq 1 1200); do
    got=$(find "$SINK_DIR" -type f | wc -l)
    ((got >= 1)) && break
    sleep 0.1
  done
  sleep 0.5
  after=$(vm_hwm_kb "$FILTER_PID")
  local signed=false f
  f=$(find "$SINK_DIR" -type f | head -n 1)
  [[ -n $f ]] && check_processed sign "$f" && signed=true
  stop_filter
  "$HARNESS" stop "$PF_DIR"
  PF_DIR=
  printf '{"baseline_rss_kb":%s,"idle_connections":100,"idle_peak_rss_kb":%s,"idle_detail":%s,' \
    "$base" "$idle" "$(cat "$WORK/idle.json")"
  printf '"big_message_bytes":%s,"big_before_rss_kb":%s,"big_peak_rss_kb":%s,"big_delivered_signed":%s}\n' \
    "$big" "$before" "$after" "$signed"
}
