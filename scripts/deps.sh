#!/usr/bin/env bash
# Installs every Debian package the build, tests and demo need; only what is missing.
# Non-interactive; safe to run again (installs nothing the second time).
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config clang clang-format clang-tidy libclang-rt-14-dev
  # libraries
  libssl-dev openssl libmilter-dev libgmime-3.0-dev libsqlite3-dev libspdlog-dev libfmt-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  # real peers used by the tests and the demo
  postfix libsasl2-modules swaks miltertest gpgsm gnupg libnss3-tools sqlite3 procps iproute2
  ca-certificates dpkg-dev lintian
  systemd man-db  # the package test: systemd-analyze verify/security, man -w
  faketime
  # the audit report's rendering test (headless Chromium)
  chromium fonts-dejavu-core
  # benchmarks (bench/): Google Benchmark, the OpenDKIM comparison row, plots
  libbenchmark-dev opendkim opendkim-tools gnuplot-nox python3
)

# --bench: only what bench/run.sh needs (build, libraries, Postfix, OpenDKIM, plots),
# not the test-only peers (gpgsm, NSS, Chromium, lintian, systemd, ...), so a first
# benchmark run on a fresh machine spends its minutes measuring.
if [[ ${1:-} == --bench ]]; then
  PACKAGES=(
    cmake g++ make pkg-config clang-format
    libssl-dev openssl libmilter-dev libgmime-3.0-dev libsqlite3-dev libspdlog-dev libfmt-dev
    libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
    postfix libsasl2-modules procps iproute2 ca-certificates
    libbenchmark-dev opendkim opendkim-tools gnuplot-nox python3
  )
elif [[ $# -gt 0 ]]; then
  echo "usage: scripts/deps.sh [--bench]" >&2
  exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix must not ask questions nor configure a system-wide MTA: the tests run
# private instances with their own configuration directories.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
