// The only file that includes <libmilter/mfapi.h>: translates libmilter callbacks into
// Session calls and applies a Session's Outcome with smfi_* calls, in EOM only. No
// exception crosses into libmilter (every callback is caught and fails closed).
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include <libmilter/mfapi.h>
#include <spdlog/spdlog.h>

#include "milter/glue.h"
#include "milter/listen_socket.h"
#include "milter/session.h"

namespace milter {
namespace {

SnapshotSource g_source;      // set once in glue_open before any thread starts
bool g_local_socket = false;  // likewise: listening on a unix socket (not TCP)
std::atomic<std::size_t> g_in_flight{0};

// Per-connection state kept in smfi_setpriv.
struct Conn {
  explicit Conn(SnapshotSource s) : session(std::move(s)) {}
  Session session;
  bool leadspc = false;  // header values keep their leading space (SMFIP_HDR_LEADSPC)
  bool nr_hdr = false;   // the MTA expects no reply to headers (SMFIP_NR_HDR)
  bool nr_eoh = false;
  bool nr_conn = false;
  bool in_message = false;
};

Conn* conn_of(SMFICTX* ctx) {
  auto* c = static_cast<Conn*>(smfi_getpriv(ctx));
  if (c == nullptr) {
    c = new Conn(g_source);  // owned through smfi_setpriv; deleted in on_close
    smfi_setpriv(ctx, c);
  }
  return c;
}

void begin_message(Conn& c) {
  if (!c.in_message) {
    c.in_message = true;
    ++g_in_flight;
  }
}

void end_message(Conn& c) {
  if (c.in_message) {
    c.in_message = false;
    --g_in_flight;
  }
}

Macros macros_of(SMFICTX* ctx) {
  static const std::array<const char*, 6> kNames = {
      "i", "{auth_authen}", "{daemon_name}", "{client_addr}", "{auth_type}", "j"};
  Macros m;
  for (const char* n : kNames) {
    if (const char* v = smfi_getsymval(ctx, const_cast<char*>(n)); v != nullptr) {
      m.emplace(n, v);
    }
  }
  return m;
}

// smfi_setreply treats '%' as a format character.
std::string escape_percent(std::string_view s) {
  std::string out;
  for (const char c : s) {
    out += c;
    if (c == '%') {
      out += '%';
    }
  }
  return out;
}

void set_reply(SMFICTX* ctx, const Reply& r) {
  if (r.empty()) {
    return;
  }
  std::string code = r.code;
  std::string xcode = r.xcode;
  std::string text = escape_percent(r.text);
  smfi_setreply(ctx, code.data(), xcode.empty() ? nullptr : xcode.data(), text.data());
}

sfsistat to_status(SMFICTX* ctx, Verdict v, const Reply& r) {
  switch (v) {
    case Verdict::kContinue:
      return SMFIS_CONTINUE;
    case Verdict::kAccept:
      return SMFIS_ACCEPT;
    case Verdict::kDiscard:
      return SMFIS_DISCARD;
    case Verdict::kQuarantine:
      return SMFIS_CONTINUE;
    case Verdict::kReject:
      set_reply(ctx, r);
      return SMFIS_REJECT;
    case Verdict::kTempfail:
      set_reply(ctx, r);
      return SMFIS_TEMPFAIL;
  }
  return SMFIS_TEMPFAIL;
}

sfsistat step(SMFICTX* ctx, Conn& c, Verdict v) {
  if (v == Verdict::kReject || v == Verdict::kTempfail || v == Verdict::kDiscard) {
    end_message(c);
  }
  return to_status(ctx, v, c.session.reply());
}

sfsistat tempfail_now(SMFICTX* ctx, const char* where) {
  spdlog::error("NOQUEUE: internal error in {}, tempfail", where);
  std::string code = "451", xcode = "4.3.0", text = "internal error in the S/MIME gateway";
  smfi_setreply(ctx, code.data(), xcode.data(), text.data());
  return SMFIS_TEMPFAIL;
}

// Applies header edits and the body; false when the MTA refused one (then tempfail:
// never deliver a half-edited message).
bool apply_edits(SMFICTX* ctx, const Conn& c, const Outcome& o) {
  for (const auto& e : o.header_edits) {
    std::string name = e.name;
    std::string value;
    value.reserve(e.value.size() + 1);
    if (c.leadspc) {
      value.push_back(' ');
    }
    value.append(e.value);
    int rc = MI_FAILURE;
    switch (e.kind) {
      case HeaderEdit::Kind::kDelete:
        rc = smfi_chgheader(ctx, name.data(), e.index, nullptr);
        break;
      case HeaderEdit::Kind::kChange:
        rc = smfi_chgheader(ctx, name.data(), e.index, value.data());
        break;
      case HeaderEdit::Kind::kAdd:
        rc = smfi_addheader(ctx, name.data(), value.data());
        break;
    }
    if (rc != MI_SUCCESS) {
      return false;
    }
  }
  if (o.new_body_file) {
    // The whole file, one MILTER_CHUNK_SIZE message after another.
    std::vector<unsigned char> buf;
    auto st = smime::for_each_chunk(o.new_body_file->fd(), 0, [&](std::string_view chunk) {
      for (std::size_t pos = 0; pos < chunk.size(); pos += 65535) {
        const auto part = chunk.substr(pos, 65535);
        buf.assign(part.begin(), part.end());
        if (smfi_replacebody(ctx, buf.data(), static_cast<int>(buf.size())) != MI_SUCCESS) {
          return policy::Status(policy::unexpected(policy::Errc::kIo, "smfi_replacebody"));
        }
      }
      return policy::Status();
    });
    if (!st) {
      return false;
    }
  } else if (o.new_body) {
    constexpr std::size_t kChunk = 65535;  // MILTER_CHUNK_SIZE
    std::string_view rest = *o.new_body;
    std::vector<unsigned char> buf;
    do {
      const auto part = rest.substr(0, kChunk);
      buf.assign(part.begin(), part.end());
      if (smfi_replacebody(ctx, buf.data(), static_cast<int>(buf.size())) != MI_SUCCESS) {
        return false;
      }
      rest.remove_prefix(part.size());
    } while (!rest.empty());
  }
  if (o.verdict == Verdict::kQuarantine) {
    std::string reason = o.quarantine_reason.empty() ? "smime-milter" : o.quarantine_reason;
    if (smfi_quarantine(ctx, reason.data()) != MI_SUCCESS) {
      return false;
    }
  }
  return true;
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long /*f2*/,
                      unsigned long /*f3*/, unsigned long* pf0, unsigned long* pf1,
                      unsigned long* pf2, unsigned long* pf3) {
  try {
    Conn* c = conn_of(ctx);
    constexpr unsigned long kActions =
        SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    // No HELO/DATA/unknown callbacks. The SMFIP_NR_* "no reply" steps (connect, each
    // header, end of headers) are requested on a unix socket only: there they save a
    // reply write and a wake-up of both sides per header (bench/README.md); on TCP they
    // make the MTA send several small packets in a row, which Nagle on its side holds
    // until our delayed ACK (measured with miltertest: ~95 ms per message with
    // NR_HDR/NR_EOH/NR_CONN, ~45 ms without).
    constexpr unsigned long kSteps =
        SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC;
    constexpr unsigned long kNoReply = SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_CONN;
    *pf0 = f0 & kActions;
    *pf1 = f1 & (g_local_socket ? kSteps | kNoReply : kSteps);
    *pf2 = 0;
    *pf3 = 0;
    c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
    c->nr_hdr = (*pf1 & SMFIP_NR_HDR) != 0;
    c->nr_eoh = (*pf1 & SMFIP_NR_EOH) != 0;
    c->nr_conn = (*pf1 & SMFIP_NR_CONN) != 0;
    if ((f0 & SMFIF_SETSYMLIST) != 0) {
      std::string conn_macros = "{daemon_name} {client_addr} j";
      std::string from_macros = "i {auth_authen} {auth_type}";
      std::string i_macro = "i";
      std::string i_macro2 = "i";
      smfi_setsymlist(ctx, SMFIM_CONNECT, conn_macros.data());
      smfi_setsymlist(ctx, SMFIM_ENVFROM, from_macros.data());
      smfi_setsymlist(ctx, SMFIM_EOH, i_macro.data());
      smfi_setsymlist(ctx, SMFIM_EOM, i_macro2.data());
    }
    return SMFIS_CONTINUE;
  } catch (...) {
    return SMFIS_ALL_OPTS;
  }
}

std::string address_text(const _SOCK_ADDR* sa) {
  if (sa == nullptr) {
    return {};
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, buf.data(), buf.size());
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf.data(), buf.size());
  } else {
    return {};
  }
  return buf.data();
}

sfsistat on_connect(SMFICTX* ctx, char* host, _SOCK_ADDR* addr) {
  try {
    Conn* c = conn_of(ctx);
    const Verdict v =
        c->session.on_connect(host != nullptr ? host : "", address_text(addr), macros_of(ctx));
    return c->nr_conn ? SMFIS_NOREPLY : step(ctx, *c, v);
  } catch (...) {
    return tempfail_now(ctx, "connect");
  }
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
  try {
    Conn* c = conn_of(ctx);
    begin_message(*c);
    const char* sender = (argv != nullptr && argv[0] != nullptr) ? argv[0] : "";
    return step(ctx, *c, c->session.on_mail_from(sender, macros_of(ctx)));
  } catch (...) {
    return tempfail_now(ctx, "envfrom");
  }
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
  try {
    Conn* c = conn_of(ctx);
    const char* rcpt = (argv != nullptr && argv[0] != nullptr) ? argv[0] : "";
    return step(ctx, *c, c->session.on_rcpt(rcpt, macros_of(ctx)));
  } catch (...) {
    return tempfail_now(ctx, "envrcpt");
  }
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) {
  try {
    Conn* c = conn_of(ctx);
    std::string raw;
    if (!c->leadspc) {
      raw.push_back(' ');  // the MTA stripped it; put the usual one back
    }
    raw.append(value != nullptr ? value : "");
    const Verdict v = c->session.on_header(name != nullptr ? name : "", raw);
    // With NR_HDR a limit verdict waits for the body / end of message (Session keeps it).
    return c->nr_hdr ? SMFIS_NOREPLY : step(ctx, *c, v);
  } catch (...) {
    return tempfail_now(ctx, "header");
  }
}

sfsistat on_eoh(SMFICTX* ctx) {
  try {
    Conn* c = conn_of(ctx);
    const Verdict v = c->session.on_eoh(macros_of(ctx));
    return c->nr_eoh ? SMFIS_NOREPLY : step(ctx, *c, v);
  } catch (...) {
    return tempfail_now(ctx, "eoh");
  }
}

sfsistat on_body(SMFICTX* ctx, unsigned char* data, size_t len) {
  try {
    Conn* c = conn_of(ctx);
    const auto* p = reinterpret_cast<const std::byte*>(data);
    return step(ctx, *c, c->session.on_body(std::span<const std::byte>(p, len)));
  } catch (...) {
    return tempfail_now(ctx, "body");
  }
}

sfsistat on_eom(SMFICTX* ctx) {
  try {
    Conn* c = conn_of(ctx);
    const Macros macros = macros_of(ctx);
    Outcome o = c->session.on_eom(macros);
    end_message(*c);
    if (o.verdict == Verdict::kContinue || o.verdict == Verdict::kAccept ||
        o.verdict == Verdict::kQuarantine) {
      if (!apply_edits(ctx, *c, o)) {
        const auto qid = macros.find("i");
        spdlog::error("{}: the MTA refused a message edit, tempfail",
                      qid != macros.end() ? qid->second : std::string("NOQUEUE"));
        return to_status(ctx, Verdict::kTempfail,
                         Reply{"451", "4.3.0", "cannot modify the message, try again later"});
      }
    }
    return to_status(ctx, o.verdict, o.reply);
  } catch (...) {
    return tempfail_now(ctx, "eom");
  }
}

sfsistat on_abort(SMFICTX* ctx) {
  try {
    Conn* c = conn_of(ctx);
    c->session.on_abort();
    end_message(*c);
  } catch (...) {
    // nothing to undo: the MTA already abandoned the message
  }
  return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx) {
  auto* c = static_cast<Conn*>(smfi_getpriv(ctx));
  if (c != nullptr) {
    end_message(*c);
    smfi_setpriv(ctx, nullptr);
    delete c;  // NOLINT(cppcoreguidelines-owning-memory): released from smfi_setpriv
  }
  return SMFIS_CONTINUE;
}

}  // namespace

policy::Status glue_open(const GlueOptions& options, SnapshotSource source) {
  g_source = std::move(source);
  const std::string& sock = options.libmilter_socket;
  g_local_socket =
      sock.rfind("local:", 0) == 0 || sock.rfind("unix:", 0) == 0 || sock.rfind('/', 0) == 0;
  static std::string name;  // libmilter keeps the pointer
  name = options.name;
  smfiDesc desc{};
  desc.xxfi_name = name.data();
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE;
  desc.xxfi_connect = on_connect;
  desc.xxfi_envfrom = on_envfrom;
  desc.xxfi_envrcpt = on_envrcpt;
  desc.xxfi_header = on_header;
  desc.xxfi_eoh = on_eoh;
  desc.xxfi_body = on_body;
  desc.xxfi_eom = on_eom;
  desc.xxfi_abort = on_abort;
  desc.xxfi_close = on_close;
  desc.xxfi_negotiate = on_negotiate;
  if (smfi_register(desc) != MI_SUCCESS) {
    return policy::unexpected(policy::Errc::kInternal, "smfi_register failed");
  }
  std::string conn = options.libmilter_socket;
  if (smfi_setconn(conn.data()) != MI_SUCCESS) {
    return policy::unexpected(policy::Errc::kConfig, "libmilter rejected socket " + conn);
  }
  smfi_settimeout(options.timeout_seconds);
  smfi_setbacklog(options.backlog);
  // false: we removed a stale socket ourselves, only after checking nobody listens.
  if (smfi_opensocket(false) != MI_SUCCESS) {
    return policy::unexpected(policy::Errc::kIo, "cannot open milter socket " + conn +
                                                     " (in use, or directory missing?)");
  }
  if (const int n = set_nodelay_on_inet_listeners(); n > 0) {
    spdlog::info("TCP_NODELAY set on {} listening socket(s)", n);
  }
  return {};
}

bool glue_run() {
  return smfi_main() == MI_SUCCESS;
}

void glue_stop() {
  smfi_stop();
}

std::size_t glue_messages_in_flight() {
  return g_in_flight.load();
}

}  // namespace milter
