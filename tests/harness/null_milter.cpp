// null-milter: the smallest real libmilter program, for harness tests, the demo and the
// benchmark baseline. At end of message it adds one header
//   X-Null-Milter: queue-id=<i>; auth=<{auth_authen} or none>; rcpts=<n>; body-bytes=<n>
// and then accepts, or (option -a) rejects, tempfails or discards the message.
//
//   null-milter -p SOCKET [-a accept|reject|tempfail|discard] [-n HEADER-NAME] [-t]
// -t: one line per message on stderr, `<queue-id>: eom_ms=<float>`, the milliseconds
// spent in the end-of-message callback (as smime-milter's eom_ms), for bench/.
// SOCKET uses libmilter's syntax: local:/path (made 0666 so Postfix's smtpd, running
// as user postfix, may connect) or inet:port@127.0.0.1. Stops on SIGTERM/SIGINT.
// Test-only code: per-connection state lives in smfi_setpriv; no global mutable state
// besides the options, which are fixed before smfi_main starts its threads.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

namespace harness {
namespace {

enum class Action { kAccept, kReject, kTempfail, kDiscard };

struct Options {
  std::string socket;
  std::string header = "X-Null-Milter";
  Action action = Action::kAccept;
  bool log_timing = false;
};
Options g_options;  // written once in main() before smfi_main

struct Conn {
  std::string auth = "none";
  int rcpts = 0;
  unsigned long body_bytes = 0;
};

Conn* conn_of(SMFICTX* ctx) {
  return static_cast<Conn*>(::smfi_getpriv(ctx));
}

sfsistat on_connect(SMFICTX* ctx, char* /*host*/, _SOCK_ADDR* /*addr*/) {
  // Owned by the context from here; freed in on_close.
  ::smfi_setpriv(ctx, new Conn());
  return SMFIS_CONTINUE;
}

sfsistat on_envfrom(SMFICTX* ctx, char** /*argv*/) {
  Conn* c = conn_of(ctx);
  if (c == nullptr) {
    return SMFIS_TEMPFAIL;
  }
  *c = Conn();
  const char* auth = ::smfi_getsymval(ctx, const_cast<char*>("{auth_authen}"));
  c->auth = (auth != nullptr && *auth != '\0') ? auth : "none";
  return SMFIS_CONTINUE;
}

// HELO, header and end-of-header callbacks do nothing, but registering them makes
// Postfix send every protocol step, as a real filter would (benchmark baseline).
sfsistat on_helo(SMFICTX* /*ctx*/, char* /*name*/) {
  return SMFIS_CONTINUE;
}
sfsistat on_header(SMFICTX* /*ctx*/, char* /*name*/, char* /*value*/) {
  return SMFIS_CONTINUE;
}
sfsistat on_eoh(SMFICTX* /*ctx*/) {
  return SMFIS_CONTINUE;
}

sfsistat on_envrcpt(SMFICTX* ctx, char** /*argv*/) {
  if (Conn* c = conn_of(ctx); c != nullptr) {
    ++c->rcpts;
  }
  return SMFIS_CONTINUE;
}

sfsistat on_body(SMFICTX* ctx, unsigned char* /*chunk*/, size_t len) {
  if (Conn* c = conn_of(ctx); c != nullptr) {
    c->body_bytes += len;
  }
  return SMFIS_CONTINUE;
}

// The header and the action; returns what the MTA is told.
sfsistat eom_work(SMFICTX* ctx, const char* qid) {
  const Conn* c = conn_of(ctx);
  if (c == nullptr) {
    return SMFIS_TEMPFAIL;
  }
  std::string value = "queue-id=" + std::string(qid != nullptr ? qid : "unknown") +
                      "; auth=" + c->auth + "; rcpts=" + std::to_string(c->rcpts) +
                      "; body-bytes=" + std::to_string(c->body_bytes);
  switch (g_options.action) {
    case Action::kReject:
      ::smfi_setreply(ctx, const_cast<char*>("550"), const_cast<char*>("5.7.1"),
                      const_cast<char*>("null-milter rejects this message"));
      return SMFIS_REJECT;
    case Action::kTempfail:
      ::smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.7.1"),
                      const_cast<char*>("null-milter tempfails this message"));
      return SMFIS_TEMPFAIL;
    case Action::kDiscard:
      return SMFIS_DISCARD;
    case Action::kAccept:
      break;
  }
  if (::smfi_addheader(ctx, g_options.header.data(), value.data()) != MI_SUCCESS) {
    return SMFIS_TEMPFAIL;
  }
  return SMFIS_ACCEPT;
}

// The end-of-message callback; with -t it logs how long the MTA waited for it.
sfsistat on_eom(SMFICTX* ctx) {
  const auto started = std::chrono::steady_clock::now();
  const char* qid = ::smfi_getsymval(ctx, const_cast<char*>("i"));
  const sfsistat r = eom_work(ctx, qid);
  if (g_options.log_timing) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    std::fprintf(stderr, "%s: eom_ms=%.3f\n", qid != nullptr ? qid : "unknown", ms);
  }
  return r;
}

sfsistat on_close(SMFICTX* ctx) {
  const std::unique_ptr<Conn> owned(conn_of(ctx));
  ::smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

bool parse_action(const char* s, Action& out) {
  const std::string v(s);
  if (v == "accept") {
    out = Action::kAccept;
  } else if (v == "reject") {
    out = Action::kReject;
  } else if (v == "tempfail") {
    out = Action::kTempfail;
  } else if (v == "discard") {
    out = Action::kDiscard;
  } else {
    return false;
  }
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: null-milter -p local:/path|inet:port@host "
               "[-a accept|reject|tempfail|discard] [-n header-name] [-t]\n");
  return 2;
}

int run(int argc, char** argv) {
  int opt = 0;
  while ((opt = ::getopt(argc, argv, "p:a:n:t")) != -1) {
    if (opt == 'p') {
      g_options.socket = optarg;
    } else if (opt == 'n') {
      g_options.header = optarg;
    } else if (opt == 't') {
      g_options.log_timing = true;
    } else if (opt == 'a') {
      if (!parse_action(optarg, g_options.action)) {
        return usage();
      }
    } else {
      return usage();
    }
  }
  if (g_options.socket.empty()) {
    return usage();
  }
  smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("null-milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS;
  desc.xxfi_connect = on_connect;
  desc.xxfi_helo = on_helo;
  desc.xxfi_envfrom = on_envfrom;
  desc.xxfi_header = on_header;
  desc.xxfi_eoh = on_eoh;
  desc.xxfi_envrcpt = on_envrcpt;
  desc.xxfi_body = on_body;
  desc.xxfi_eom = on_eom;
  desc.xxfi_close = on_close;
  if (::smfi_register(desc) != MI_SUCCESS ||
      ::smfi_setconn(g_options.socket.data()) != MI_SUCCESS ||
      ::smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "null-milter: cannot listen on %s\n", g_options.socket.c_str());
    return 1;
  }
  const std::string local = "local:";
  if (g_options.socket.rfind(local, 0) == 0) {
    ::chmod(g_options.socket.c_str() + local.size(), 0666);
  }
  return ::smfi_main() == MI_SUCCESS ? 0 : 1;
}

}  // namespace
}  // namespace harness

int main(int argc, char** argv) {
  return harness::run(argc, argv);
}
