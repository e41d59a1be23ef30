// smimectl process: runs one message through the very Session the daemon runs (same
// policy, same keystore lookups, same S/MIME pipeline, same audit trail record),
// offline. Reads the message on stdin, writes the message as it would be delivered on stdout and
// the decision on stderr (or as JSON with --json, on stderr as well, so stdout stays the message).
// Exit status: 0 delivered (possibly modified), 20 reject, 21 tempfail, 22 discard,
// 23 quarantine (cli/exit_codes.h); other codes for setup errors.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/ks_common.h"
#include "cli/registry.h"
#include "milter/rewrite.h"
#include "milter/session.h"
#include "milter/smime_pipeline.h"
#include "milter/snapshot.h"
#include "policy/config.h"
#include "smime/mime.h"

namespace cli::process_cmd {
namespace {

struct ProcessOptions {
  std::string direction;
  std::string from;
  std::vector<std::string> to;
  std::string auth;
  std::string client_ip;
  std::string queue_id = "OFFLINE";
  ks::KsOptions ks;
};

int exit_for(milter::Verdict v) {
  switch (v) {
    case milter::Verdict::kContinue:
    case milter::Verdict::kAccept:
      return kExitOk;
    case milter::Verdict::kReject:
      return kExitReject;
    case milter::Verdict::kTempfail:
      return kExitTempfail;
    case milter::Verdict::kDiscard:
      return kExitDiscard;
    case milter::Verdict::kQuarantine:
      return kExitQuarantine;
  }
  return kExitInternal;
}

// Steers the policy's direction classification the way Postfix would present the
// message: outbound = authenticated or from an internal host; inbound = neither.
void shape_for_direction(const ProcessOptions& o, const policy::Config& cfg, std::string& ip,
                         std::string& daemon) {
  ip = o.client_ip;
  if (o.direction == "outbound") {
    if (o.auth.empty() && !cfg.originating_daemons.empty()) {
      daemon = cfg.originating_daemons.front();
    }
    if (ip.empty()) {
      ip = "127.0.0.1";
    }
  } else if (ip.empty()) {
    ip = "192.0.2.1";  // TEST-NET-1: never an internal host
  }
}

int run(const Globals& g, const ProcessOptions& o) {
  // stdout carries the message: the Session's log lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("smimectl-process"));
  auto cfg = policy::load_config(g.config_path);
  if (!cfg) {
    return ks::fail(cfg.error(), "configuration");
  }
  auto ks = ks::open_keystore(g, o.ks, true);
  if (!ks) {
    return ks::fail(ks.error(), "keystore");
  }
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  const milter::ParsedMessage msg = milter::parse_message(smime::lf_to_crlf(input));
  // Recorded exactly like the daemon's decisions: an unopenable trail makes
  // on_audit_failure apply (default tempfail, exit 21).
  std::shared_ptr<const milter::Snapshot> snap =
      milter::make_snapshot(*cfg, {}, std::shared_ptr<keystore::Keystore>(std::move(*ks)),
                            milter::open_audit_trail(**cfg));
  milter::Session s([snap] { return snap; });
  std::string ip;
  std::string daemon;
  shape_for_direction(o, **cfg, ip, daemon);
  milter::Macros m{{"i", o.queue_id}};
  if (!o.auth.empty()) {
    m["{auth_authen}"] = o.auth;
  }
  if (!daemon.empty()) {
    m["{daemon_name}"] = daemon;
  }
  s.on_connect("localhost", ip, m);
  milter::Verdict v = s.on_mail_from("<" + o.from + ">", m);
  for (const auto& r : o.to) {
    if (v == milter::Verdict::kContinue) {
      v = s.on_rcpt("<" + r + ">");
    }
  }
  for (const auto& h : msg.headers) {
    s.on_header(h.name, h.value);
  }
  s.on_body(std::as_bytes(std::span(msg.body.data(), msg.body.size())));
  milter::Outcome out =
      v == milter::Verdict::kContinue
          ? s.on_eom(m)
          : milter::make_outcome(v, s.reply().code, s.reply().xcode, s.reply().text);
  const bool wrong_direction = out.summary.find("direction=" + o.direction) == std::string::npos &&
                               out.summary.find("direction=") != std::string::npos;
  if (g.json) {
    nlohmann::json j{
        {"verdict", milter::verdict_name(out.verdict)},
        {"reply", {{"code", out.reply.code}, {"xcode", out.reply.xcode}, {"text", out.reply.text}}},
        {"summary", out.summary},
        {"body_replaced", out.new_body.has_value() || out.new_body_file != nullptr},
        {"header_edits", out.header_edits.size()}};
    std::cerr << j.dump() << "\n";
  } else {
    std::cerr << "verdict: " << milter::verdict_name(out.verdict);
    if (!out.reply.empty()) {
      std::cerr << " " << out.reply.code << " " << out.reply.xcode << " " << out.reply.text;
    }
    std::cerr << "\n"
              << "decision: " << out.summary << "\n";
  }
  if (wrong_direction) {
    std::cerr << "smimectl: the configuration classifies this message differently than --direction "
              << o.direction << " (see smimectl policy explain)\n";
    return kExitUsage;
  }
  if (out.verdict == milter::Verdict::kContinue || out.verdict == milter::Verdict::kAccept ||
      out.verdict == milter::Verdict::kQuarantine) {
    std::cout << milter::delivered_message(msg.headers, msg.body, out);
  }
  return exit_for(out.verdict);
}

const bool kReg = register_group([](CLI::App& app, Globals& g, int& rc) {
  auto o = std::make_shared<ProcessOptions>();
  CLI::App* cmd = app.add_subcommand(
      "process",
      "run one message (stdin) through the milter's Session offline; the delivered "
      "message goes to stdout, the decision to stderr");
  cmd->add_option("--direction", o->direction, "outbound or inbound")
      ->required()
      ->check(CLI::IsMember({"outbound", "inbound"}));
  cmd->add_option("--from", o->from, "envelope sender")->required();
  cmd->add_option("--to", o->to, "envelope recipient (repeatable)")->required();
  cmd->add_option("--auth", o->auth, "SMTP AUTH user ({auth_authen})");
  cmd->add_option("--client-ip", o->client_ip, "client address");
  cmd->add_option("--queue-id", o->queue_id, "queue id shown in the decision")
      ->capture_default_str();
  cmd->add_option("--secret-file", o->ks.secret_file,
                  "key-encryption secret (overrides the configuration)");
  cmd->callback([&g, &rc, o] { rc = run(g, *o); });
});

}  // namespace
}  // namespace cli::process_cmd
