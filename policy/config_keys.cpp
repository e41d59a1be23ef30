#include "policy/config_keys.h"

#include <array>

namespace policy {
namespace {

constexpr std::string_view kFailureType = "action or { action, reply }";

constexpr std::array kKeys{
    // [daemon]
    ConfigKey{"daemon", "socket", "string",
              "\"local:/var/spool/postfix/smime-milter/smime-milter.sock\"",
              "Listening socket in libmilter's spelling (OpenDKIM `Socket`): `local:/path`, "
              "`unix:/path`, `inet:PORT@HOST`, `inet6:PORT@[ADDR]`. Postfix's "
              "`inet:HOST:PORT` spelling is rejected with the libmilter form to use."},
    ConfigKey{"daemon", "user", "string", "\"smime-milter\"",
              "User to run as (OpenDKIM `UserID`)."},
    ConfigKey{"daemon", "group", "string", "\"smime-milter\"",
              "Group to run as; give `postfix` access to the socket through it."},
    ConfigKey{"daemon", "umask", "string (octal)", "\"007\"",
              "Umask for the socket and files the daemon creates (OpenDKIM `UMask`)."},
    ConfigKey{"daemon", "pid_file", "string", "\"/run/smime-milter/smime-milter.pid\"",
              "PID file (absolute path)."},
    ConfigKey{"daemon", "foreground", "boolean", "false",
              "Stay in the foreground and log to stderr instead of syslog."},
    ConfigKey{"daemon", "log_level", "string", "\"info\"",
              "One of `trace`, `debug`, `info`, `warn`, `error`, `critical`."},
    ConfigKey{"daemon", "syslog_facility", "string", "\"mail\"",
              "Syslog facility: `mail`, `daemon`, `user` or `local0` .. `local7`."},
    ConfigKey{"daemon", "log_why", "boolean", "false",
              "Log the step-by-step reasoning of every decision (OpenDKIM `LogWhy`)."},
    // [milter]
    ConfigKey{"milter", "mode", "array of strings",
              "[\"sign\", \"encrypt\", \"verify\", \"decrypt\"]",
              "What the milter does at all (OpenDKIM `Mode`): any of `sign`, `encrypt`, `verify`, "
              "`decrypt`. A rule may not require what the mode leaves out."},
    ConfigKey{"milter", "internal_hosts", "array of strings", "[\"127.0.0.0/8\", \"::1/128\"]",
              "IPv4/IPv6 addresses or CIDR prefixes whose mail is outbound (OpenDKIM "
              "`InternalHosts`). IPv4 prefixes also match IPv4-mapped IPv6 clients."},
    ConfigKey{"milter", "originating_daemons", "array of strings", "[]",
              "Values of the `{daemon_name}` macro (Postfix `milter_macro_daemon_name`) whose "
              "mail is outbound, e.g. `ORIGINATING` on the submission service."},
    ConfigKey{"milter", "authserv_id", "string", "\"\" (host name)",
              "authserv-id written in `Authentication-Results` (OpenDKIM `AuthservID`); incoming "
              "headers claiming it are removed."},
    // [keystore]
    ConfigKey{"keystore", "path", "string", "\"/var/lib/smime-milter/keystore.db\"",
              "SQLite certificate directory (absolute path)."},
    ConfigKey{"keystore", "secret_file", "string", "\"/etc/smime-milter/keystore.secret\"",
              "File holding the key-encryption secret that unwraps private keys."},
    ConfigKey{"keystore", "allow_unsafe_permissions", "boolean", "false",
              "Accept a secret file or database readable by others (OpenDKIM "
              "`RequireSafeKeys = false`). Leave false."},
    // [trust]
    ConfigKey{"trust", "check_revocation", "boolean", "true",
              "Consult CRLs and revocations. When false, unknown revocation state counts as "
              "good (fail open); revoked certificates are still never used."},
    ConfigKey{"trust", "require_sender_match", "boolean", "true",
              "Inbound: a signature only passes when the signer's certificate names the From "
              "address."},
    ConfigKey{"trust", "harvest_certificates", "boolean", "true",
              "Inbound: remember certificates (and SMIMECapabilities) from verified signatures, "
              "so replies can be encrypted."},
    // [limits]
    ConfigKey{"limits", "max_message_size", "integer (bytes)", "52428800",
              "Largest message handled; larger ones get `on_internal_error`."},
    ConfigKey{"limits", "max_headers", "integer", "1000", "Most header fields in one message."},
    ConfigKey{"limits", "max_recipients", "integer", "1000", "Most recipients in one message."},
    ConfigKey{"limits", "max_mime_depth", "integer (1..64)", "32",
              "Deepest nesting of multiparts and S/MIME layers."},
    ConfigKey{"limits", "spool_threshold", "integer (bytes)", "1048576",
              "Message bodies larger than this are spooled to disk instead of memory."},
    // [audit]
    ConfigKey{"audit", "database", "string", "\"/var/lib/smime-milter/audit.db\"",
              "Tamper-evident audit trail (SQLite, absolute path)."},
    ConfigKey{"audit", "on_audit_failure", "string", "\"tempfail\"",
              "What happens to a message when its audit record cannot be written: `tempfail`, "
              "`reject` or `accept`."},
    ConfigKey{"audit", "head_interval", "integer (seconds, 0..2678400)", "3600",
              "How often the chain head (last record's number and hash) is published while "
              "records are written: stored in the trail, signed with `head_signer`, logged to "
              "syslog (facility mail); `0` = never. Read at start-up."},
    ConfigKey{"audit", "head_signer", "string", "\"\"",
              "Address of a `system` certificate in the keystore (with its key) that signs "
              "the published chain heads; empty = heads are unsigned. Read at start-up."},
    // [default] and [[rule]] actions
    ConfigKey{"rule", "name", "string", "(required in [[rule]])",
              "Rule name, unique; shown in logs, decisions and `%{rule}`. Not used in [default]."},
    ConfigKey{"rule", "sign", "string", "\"if-possible\"",
              "Outbound signing: `required`, `if-possible` or `never`."},
    ConfigKey{"rule", "encrypt", "string", "\"if-possible\"",
              "Outbound encryption: `required`, `if-possible` (only when every recipient has a "
              "usable certificate, else sign only) or `never`."},
    ConfigKey{"rule", "signer", "array of strings", "[\"individual\", \"role\", \"system\"]",
              "Certificate types that may sign, in order of preference."},
    ConfigKey{"rule", "profile", "string", "\"compatible\"",
              "Algorithms: `compatible` (AES-256-CBC, RSA PKCS#1 v1.5, SHA-256), `modern` "
              "(AES-256-GCM, RSASSA-PSS, RSAES-OAEP, SHA-256) or `per-recipient` (modern when "
              "every recipient announced support, else compatible)."},
    ConfigKey{"rule", "verify", "boolean", "true", "Inbound: verify S/MIME signatures."},
    ConfigKey{"rule", "decrypt", "boolean", "true",
              "Inbound: decrypt mail addressed to keys held in the keystore."},
    ConfigKey{"rule", "strip_subject_tag", "boolean", "false",
              "Remove the matched `match.subject_tag` from the Subject before sending."},
    ConfigKey{"rule", "on_no_signing_cert", kFailureType, "\"reject\"",
              "Signing required but the sender has no usable signing certificate."},
    ConfigKey{"rule", "on_no_recipient_cert", kFailureType, "\"reject\"",
              "Encryption required but some recipient has no usable certificate; the reply "
              "names them (`%{recipients}`)."},
    ConfigKey{"rule", "on_revoked", kFailureType, "\"reject\"",
              "The signing certificate (outbound) or the signer (inbound) is revoked."},
    ConfigKey{"rule", "on_revocation_unknown", kFailureType, "\"tempfail\"",
              "No fresh revocation information for a certificate that is required."},
    ConfigKey{"rule", "on_bad_signature", kFailureType, "\"accept\"",
              "Inbound signature does not verify (bad, untrusted, expired, sender mismatch). "
              "Accepted mail carries `smime=fail` in Authentication-Results."},
    ConfigKey{"rule", "on_decrypt_error", kFailureType, "\"tempfail\"",
              "Inbound mail for one of our keys cannot be decrypted."},
    ConfigKey{"rule", "on_keystore_unavailable", kFailureType, "\"tempfail\"",
              "The certificate directory is locked, missing or corrupt."},
    ConfigKey{"rule", "on_internal_error", kFailureType, "\"tempfail\"",
              "Any other failure of ours (crypto error, limit exceeded, bug)."},
    ConfigKey{"failure action", "action", "string", "(required)",
              "`accept`, `reject`, `tempfail`, `quarantine` or `discard`."},
    ConfigKey{"failure action", "reply", "string", "(per failure)",
              "`[CODE] [X.Y.Z] text`; the code classes must fit the action (5 for reject, 4 for "
              "tempfail). For quarantine the text is the reason. Variables: `%{recipients}`, "
              "`%{sender}`, `%{rule}`, `%{reason}`; `%%` is a percent sign."},
    // [rule.match]
    ConfigKey{"rule.match", "direction", "string", "\"any\"", "`inbound`, `outbound` or `any`."},
    ConfigKey{"rule.match", "sender", "array of strings", "[]",
              "Globs (case-insensitive) on the envelope sender: with `@` on the address, "
              "without on the domain (`*.go.id`)."},
    ConfigKey{"rule.match", "department", "array of strings", "[]",
              "Sender's department as recorded in the keystore (case-insensitive)."},
    ConfigKey{"rule.match", "recipients_all", "array of strings", "[]",
              "Every recipient matches one of these globs (address or domain, as for sender)."},
    ConfigKey{"rule.match", "recipients_any", "array of strings", "[]",
              "At least one recipient matches one of these globs."},
    ConfigKey{"rule.match", "headers", "array of tables", "[]",
              "Header conditions; the rule matches when any of them matches a header."},
    ConfigKey{"rule.match", "subject_tag", "string", "\"\"",
              "Case-insensitive text in the Subject, e.g. `[RAHASIA]`."},
    ConfigKey{"rule.match.headers", "name", "string", "(required)",
              "Header field name (case-insensitive), e.g. `X-Classification`."},
    ConfigKey{"rule.match.headers", "value", "string", "(one of value/regex)",
              "Glob on the unfolded header value (case-insensitive)."},
    ConfigKey{"rule.match.headers", "regex", "string", "(one of value/regex)",
              "ECMAScript regular expression searched in the first 1024 bytes of the value "
              "(case-insensitive)."},
};

}  // namespace

std::span<const ConfigKey> config_keys() {
  return kKeys;
}

std::string configuration_reference() {
  std::string out =
      "# smime-milter configuration reference\n\n"
      "<!-- Generated from policy/config_keys.cpp; tests/policy check that this file matches. "
      "Regenerate with `smimectl policy reference > docs/configuration.md`. -->\n\n"
      "One TOML file, default `/etc/smime-milter/smime-milter.conf` (an annotated sample is "
      "`packaging/smime-milter.conf`). Unknown keys, wrong types and bad values are errors "
      "naming file, line and column; `smime-milter --check-config FILE` prints the effective "
      "configuration. Rules (`[[rule]]`) are tried in order, the first whose `match` holds "
      "wins, `[default]` applies otherwise; a rule's unset actions come from `[default]`, "
      "whose unset actions come from the built-in defaults listed here.\n";
  std::string_view current;
  for (const auto& k : kKeys) {
    if (k.table != current) {
      current = k.table;
      out += "\n## ";
      if (current == "rule") {
        out += "[default] and [[rule]]";
      } else if (current == "failure action") {
        out += "Failure action tables (`on_* = { action = ..., reply = ... }`)";
      } else if (current == "rule.match.headers") {
        out += "[[rule]] match.headers entries";
      } else {
        out += "[";
        out += current;
        out += "]";
      }
      out += "\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    }
    out += "| `";
    out += k.key;
    out += "` | ";
    out += k.type;
    out += " | `";
    out += k.default_value;
    out += "` | ";
    out += k.doc;
    out += " |\n";
  }
  return out;
}

}  // namespace policy
