#!/usr/bin/env bash
# postfix-instance.sh: a private, non-default Postfix instance for tests and the demo.
#
#   postfix-instance.sh start  DIR [options]   create DIR, start Postfix + smtp-sink, wait
#                                              (exit 75: a port was taken meanwhile, retry)
#   postfix-instance.sh stop   DIR             stop everything of DIR (also after a partial
#                                              start) and remove DIR
#   postfix-instance.sh status DIR             print the pids of DIR's processes; exit 0 when
#                                              the instance is up, 3 when it is not
#
# Options of start:
#   --milter SPEC              smtpd_milters and non_smtpd_milters (Postfix syntax, e.g.
#                              unix:/path or inet:127.0.0.1:port); repeat for several
#   --milter-default-action A  accept|reject|tempfail|quarantine (default tempfail)
#   --sasl USER:PASS           enable SMTP AUTH (PLAIN, LOGIN) with Cyrus SASL + sasldb;
#                              repeat for more users. The milter sees {auth_authen} =
#                              USER when USER is user@domain, else USER@mx.<name>.test.
#   --sink-opt OPT             extra smtp-sink option (repeatable), e.g. --sink-opt=-r --sink-opt=RCPT
#   -o NAME=VALUE              extra main.cf setting (repeatable, applied last)
#
# The instance: its own config_directory DIR/etc, queue_directory DIR/spool,
# data_directory DIR/data; smtpd on 127.0.0.1 at a free port; no local delivery (every
# recipient is relayed); relayhost = an smtp-sink on another free port that dumps each
# message (smtp-sink -d) to its own file under DIR/sink; Postfix logs to DIR/log/postfix.log
# through postlogd (maillog_file) with syslog_name = the basename of DIR. Ports are chosen
# under a lock, so instances started at the same time never clash.
#
# After start, DIR/instance.env (also printed) holds shell assignments: SMTP_PORT,
# SINK_PORT, CONFIG_DIR, QUEUE_DIR, SINK_DIR, LOG_FILE, SINK_PID, MASTER_PID, SYSLOG_NAME.
# Must run as root (Postfix's master and smtp-sink drop privileges themselves).
set -euo pipefail

readonly MARKER=.smime-postfix-instance
readonly LOCK=/tmp/smime-postfix-instance.lock
readonly DAEMON_DIR=/usr/lib/postfix/sbin

die() {
  echo "postfix-instance: $*" >&2
  exit 1
}

# Exit status 75 (EX_TEMPFAIL) when a port we picked was taken before we bound it:
# the caller may simply start again.
readonly EXIT_PORT_RACE=75
die_start() {
  local dir=$1
  shift
  echo "postfix-instance: $*" >&2
  if grep -qs 'Address already in use' "$dir"/log/*.log; then
    exit "$EXIT_PORT_RACE"
  fi
  exit 1
}

usage() {
  sed -n '2,20p' "$0" >&2
  exit 2
}

port_in_use() {
  [[ -n $(ss -Htan "( sport = :$1 )" 2>/dev/null) ]]
}

# A random free TCP port below the Linux ephemeral range (32768+), so outgoing
# connections never take it between our check and the bind.
pick_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    if ! port_in_use "$p" && [[ " ${TAKEN_PORTS:-} " != *" $p "* ]]; then
      TAKEN_PORTS="${TAKEN_PORTS:-} $p"
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# Waits until something accepts on 127.0.0.1:$1 and greets with 220; gives up early
# when process $2 (if given) has died.
wait_smtp() {
  local port=$1 pid=${2:-} deadline=$((SECONDS + 30)) line
  while ((SECONDS < deadline)); do
    if [[ -n $pid ]] && ! alive "$pid"; then
      return 1
    fi
    if exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      line=
      read -r -t 5 line <&3 || true
      printf 'QUIT\r\n' >&3 2>/dev/null || true
      exec 3>&- 3<&-
      [[ $line == 220* ]] && return 0
    fi
    sleep 0.05
  done
  return 1
}

write_main_cf() {
  local dir=$1 name=$2 smtp_port=$3 sink_port=$4
  cat >"$dir/etc/main.cf" <<EOF
# Private test instance $name (written by tests/harness/postfix-instance.sh).
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = $DAEMON_DIR
mail_owner = postfix
setgid_group = postdrop
syslog_name = $name
maillog_file = $dir/log/postfix.log
maillog_file_prefixes = $dir
myhostname = mx.$name.test
mydomain = $name.test
myorigin = \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 local delivery is disabled in this test instance
alias_maps =
alias_database =
relay_domains =
relayhost = [127.0.0.1]:$sink_port
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtp_dns_support_level = disabled
smtpd_error_sleep_time = 0
smtpd_banner = \$myhostname ESMTP $name
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
biff = no
append_dot_mydomain = no
milter_default_action = $MILTER_DEFAULT_ACTION
EOF
  if ((${#MILTERS[@]} > 0)); then
    local joined
    joined=$(IFS=,; echo "${MILTERS[*]}")
    printf 'smtpd_milters = %s\nnon_smtpd_milters = %s\n' "$joined" "$joined" >>"$dir/etc/main.cf"
  fi
}

write_master_cf() {
  local dir=$1 smtp_port=$2
  # chroot is off (column 5 = n) so that unix: milter sockets may live anywhere.
  cat >"$dir/etc/master.cf" <<EOF
127.0.0.1:$smtp_port inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - error
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
}

# Adds a user to a sasldb: with saslpasswd2 (sasl2-bin) when installed, else through
# Perl's DB_File, which writes the same Berkeley DB 5.3 hash (key user NUL realm NUL
# "userPassword") that Cyrus' sasldb plugin reads. The password travels on stdin.
add_sasl_user() {
  local db=$1 realm=$2 user=$3 pass=$4
  if command -v saslpasswd2 >/dev/null; then
    printf '%s' "$pass" | saslpasswd2 -p -c -f "$db" -u "$realm" "$user"
  else
    printf '%s' "$pass" | perl -MDB_File -MFcntl -e '
      my ($db, $realm, $user) = @ARGV;
      my $pass = do { local $/; <STDIN> };
      tie my %h, "DB_File", $db, O_RDWR | O_CREAT, 0640, $DB_HASH or die "sasldb $db: $!\n";
      $h{"$user\0$realm\0userPassword"} = $pass;
      untie %h or die "sasldb $db: $!\n";' "$db" "$realm" "$user"
  fi
}

# Cyrus SASL with a private sasldb: the lightest real way to get {auth_authen} and
# {auth_type} into a milter (no Dovecot, no saslauthd).
setup_sasl() {
  local dir=$1 name=$2 cred user pass
  compgen -G "/usr/lib/*/sasl2/libplain.so*" >/dev/null ||
    die "--sasl needs Cyrus SASL's PLAIN/LOGIN mechanisms: install the Debian package libsasl2-modules"
  mkdir -p "$dir/etc/sasl"
  cat >"$dir/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $dir/etc/sasl/sasldb2
EOF
  for cred in "${SASL_USERS[@]}"; do
    user=${cred%%:*}
    pass=${cred#*:}
    if [[ $user == *@* ]]; then
      # Cyrus splits a login user@domain into user and realm: {auth_authen} is then
      # exactly the login, as with mail addresses used as logins.
      add_sasl_user "$dir/etc/sasl/sasldb2" "${user##*@}" "${user%@*}" "$pass"
    else
      add_sasl_user "$dir/etc/sasl/sasldb2" "mx.$name.test" "$user" "$pass"
    fi
  done
  chown root:postfix "$dir/etc/sasl/sasldb2"
  chmod 0640 "$dir/etc/sasl/sasldb2"
  cat >>"$dir/etc/main.cf" <<EOF
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/etc/sasl
smtpd_sasl_local_domain = mx.$name.test
smtpd_sasl_security_options = noanonymous
EOF
}

# The queue directories as postfix-files(5) lays them out, and quick-start, which makes
# `postfix start` skip its integrity checks (post-install, postsuper, find over the
# installation: about 2 s) on a queue that is new by construction.
make_queue_dirs() {
  local q=$1 d
  for d in active bounce corrupt defer deferred flush hold incoming private saved trace; do
    install -d -o postfix -g root -m 0700 "$q/$d"
  done
  install -d -o postfix -g postdrop -m 0730 "$q/maildrop"
  install -d -o postfix -g postdrop -m 0710 "$q/public"
  install -d -o root -g root -m 0755 "$q/pid"
  touch "$q/quick-start"
}

start_sink() {
  local dir=$1 port=$2
  # setsid + redirected stdio: the sink must outlive this script and must not hold
  # the caller's pipes open.
  setsid smtp-sink -4 -u postfix -h "sink.$(basename "$dir").test" "${SINK_OPTS[@]}" \
    -d "$dir/sink/%Y%m%d%H%M%S." "127.0.0.1:$port" 64 \
    </dev/null >>"$dir/log/smtp-sink.log" 2>&1 &
  echo $! >"$dir/sink.pid"
}

cmd_start() {
  local dir=$1
  [[ $(id -u) -eq 0 ]] || die "must run as root (Postfix's master needs it)"
  [[ -e "$dir/instance.env" ]] && die "$dir already holds a running instance"
  if [[ -d $dir && -n $(ls -A "$dir") ]]; then
    die "$dir exists and is not empty (start wants a new or empty directory)"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  local name
  name=$(basename "$dir" | tr -c 'A-Za-z0-9-\n' '-')
  touch "$dir/$MARKER"
  # Postfix daemons run as postfix and must reach the queue below DIR.
  chmod 0711 "$dir"
  mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/sink" "$dir/log"
  chown postfix "$dir/data" "$dir/sink"

  exec 9>"$LOCK"
  flock 9
  local smtp_port sink_port
  smtp_port=$(pick_port)
  TAKEN_PORTS=" $smtp_port"
  sink_port=$(pick_port)

  write_main_cf "$dir" "$name" "$smtp_port" "$sink_port"
  write_master_cf "$dir" "$smtp_port"
  ((${#SASL_USERS[@]} == 0)) || setup_sasl "$dir" "$name"
  local opt
  for opt in "${EXTRA_CF[@]}"; do
    postconf -c "$dir/etc" -e "$opt"
  done

  make_queue_dirs "$dir/spool"
  start_sink "$dir" "$sink_port"
  if ! postfix -c "$dir/etc" start >>"$dir/log/postfix-start.log" 2>&1; then
    cat "$dir/log/postfix-start.log" >&2
    tail -n 30 "$dir/log/postfix.log" >&2 2>/dev/null || true
    # Postfix commands write their fatal errors to stderr only on a terminal: ask
    # `postfix check` again on a pseudo-terminal (script(1), Debian's bsdutils).
    script -qec "postfix -c $dir/etc check" /dev/null </dev/null >&2 || true
    die_start "$dir" "postfix start failed for $dir (see above)"
  fi
  if ! wait_smtp "$smtp_port" "$(master_pid "$dir")"; then
    tail -n 30 "$dir/log/postfix.log" >&2 2>/dev/null || true
    die_start "$dir" "smtpd of $dir on 127.0.0.1:$smtp_port did not answer"
  fi
  if ! wait_smtp "$sink_port" "$(cat "$dir/sink.pid")"; then
    cat "$dir/log/smtp-sink.log" >&2
    die_start "$dir" "smtp-sink of $dir on 127.0.0.1:$sink_port did not answer"
  fi
  flock -u 9

  cat >"$dir/instance.env" <<EOF
SMTP_PORT=$smtp_port
SINK_PORT=$sink_port
CONFIG_DIR=$dir/etc
QUEUE_DIR=$dir/spool
SINK_DIR=$dir/sink
LOG_FILE=$dir/log/postfix.log
SINK_PID=$(cat "$dir/sink.pid")
MASTER_PID=$(master_pid "$dir")
SYSLOG_NAME=$name
EOF
  cat "$dir/instance.env"
}

master_pid() {
  local f=$1/spool/pid/master.pid
  [[ -r $f ]] && tr -d ' \n' <"$f"
  return 0
}

# True when pid $1 exists and is not a zombie (an exited daemon whose parent, init,
# has not reaped it yet: it holds no port and no file).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Pids of every process of the instance: the master and its children (they carry
# MAIL_CONFIG=DIR/etc in their environment) and the smtp-sink.
instance_pids() {
  local dir=$1 p
  grep -lzxF "MAIL_CONFIG=$dir/etc" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true
  if [[ -r $dir/sink.pid ]]; then
    p=$(cat "$dir/sink.pid")
    if alive "$p" && grep -qF -- "$dir/sink" "/proc/$p/cmdline" 2>/dev/null; then
      echo "$p"
    fi
  fi
  p=$(master_pid "$dir")
  if [[ -n $p ]] && alive "$p"; then
    echo "$p"
  fi
  return 0
}

cmd_stop() {
  local dir=$1
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd -P)
  [[ -e "$dir/$MARKER" ]] || die "$dir is not a postfix-instance directory; not touching it"
  local m pids i
  m=$(master_pid "$dir")
  if [[ -n $m ]] && kill -0 "$m" 2>/dev/null; then
    kill -TERM "$m" 2>/dev/null || true
  fi
  # The master's children exit on SIGTERM too; telling them at once saves a second.
  pids=$(instance_pids "$dir" | sort -u)
  # shellcheck disable=SC2086
  [[ -z $pids ]] || kill -TERM $pids 2>/dev/null || true
  for i in $(seq 1 100); do
    pids=$(instance_pids "$dir" | sort -u)
    [[ -z $pids ]] && break
    if ((i == 60)); then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
    elif ((i % 10 == 0)); then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
    fi
    sleep 0.05
  done
  pids=$(instance_pids "$dir" | sort -u)
  [[ -z $pids ]] || die "processes of $dir survived: $pids"
  rm -rf "$dir"
}

cmd_status() {
  local dir=$1
  [[ -d $dir ]] || exit 3
  dir=$(cd "$dir" && pwd -P)
  local pids
  pids=$(instance_pids "$dir" | sort -u)
  [[ -n $pids ]] && echo "$pids"
  local m
  m=$(master_pid "$dir")
  [[ -n $m ]] && alive "$m" && [[ -e $dir/instance.env ]] || exit 3
}

main() {
  (($# >= 2)) || usage
  local cmd=$1 dir=$2
  shift 2
  MILTERS=()
  SASL_USERS=()
  SINK_OPTS=()
  EXTRA_CF=()
  MILTER_DEFAULT_ACTION=tempfail
  while (($# > 0)); do
    case $1 in
      --milter) MILTERS+=("$2"); shift 2 ;;
      --milter=*) MILTERS+=("${1#*=}"); shift ;;
      --milter-default-action) MILTER_DEFAULT_ACTION=$2; shift 2 ;;
      --milter-default-action=*) MILTER_DEFAULT_ACTION=${1#*=}; shift ;;
      --sasl) SASL_USERS+=("$2"); shift 2 ;;
      --sasl=*) SASL_USERS+=("${1#*=}"); shift ;;
      --sink-opt) SINK_OPTS+=("$2"); shift 2 ;;
      --sink-opt=*) SINK_OPTS+=("${1#*=}"); shift ;;
      -o) EXTRA_CF+=("$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  case $cmd in
    start)
      # errexit is ignored inside a tested subshell: run it untested, then look.
      set +e
      (
        set -e
        cmd_start "$dir"
      )
      local rc=$?
      set -e
      if ((rc != 0)); then
        cmd_stop "$dir" || true
        exit "$rc"
      fi
      ;;
    stop) cmd_stop "$dir" ;;
    status) cmd_status "$dir" ;;
    *) usage ;;
  esac
}

main "$@"
