#!/usr/bin/env bash
# bench/cli_filter.sh: the "what people use today" baseline of bench/run.sh, a Postfix
# content_filter (pipe(8), one process per message) that signs each message with the
# openssl CLI and re-injects it over SMTP:
#   cli_filter.sh DIR PORT SENDER RECIPIENT < message
# DIR holds alice.crt/alice.key/inter.crt; PORT is a local smtpd without the filter.
# Appends the CPU seconds of its children (openssl, awk, sed) and itself to DIR/cpu.log.
# Exit 75 (EX_TEMPFAIL) on any failure: Postfix keeps the message queued.
set -uo pipefail
dir=$1 port=$2 sender=$3 rcpt=$4

in=$(mktemp) || exit 75
trap 'rm -f "$in" "$in.ent" "$in.sig" "$in.times"' EXIT
cat >"$in" || exit 75
# The signed entity: Content-Type + body; the other header fields stay outside.
{
  printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\n'
  awk 'p { print } /^\r?$/ && !p { p = 1 }' "$in"
} >"$in.ent" || exit 75
openssl cms -sign -signer "$dir/alice.crt" -inkey "$dir/alice.key" -certfile "$dir/inter.crt" \
  -in "$in.ent" -out "$in.sig" || exit 75

exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 75
reply() {  # reads one SMTP reply; fails unless its code is $1
  local line
  while IFS= read -r -t 30 line <&3; do
    [[ ${line:3:1} == "-" ]] && continue
    [[ $line == "$1"* ]]
    return
  done
  return 1
}
rc=0
{
  reply 220 && printf 'EHLO filter\r\n' >&3 && reply 250 &&
    printf 'MAIL FROM:<%s>\r\n' "$sender" >&3 && reply 250 &&
    printf 'RCPT TO:<%s>\r\n' "$rcpt" >&3 && reply 250 &&
    printf 'DATA\r\n' >&3 && reply 354 &&
    {
      awk '/^\r?$/ { exit } /^[ \t]/ { if (keep) print; next }
           { keep = ($0 !~ /^(Content-|MIME-Version:)/) } keep' "$in"
      sed -e 's/^\./../' -e 's/\r*$/\r/' "$in.sig"
      printf '.\r\n'
    } >&3 && reply 250 && printf 'QUIT\r\n' >&3
} || rc=75
exec 3>&-
times >"$in.times"  # not in a pipeline: a subshell would see no children
awk '{ for (i = 1; i <= NF; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } }
     END { printf "%.4f\n", s }' "$in.times" >>"$dir/cpu.log"
exit "$rc"
