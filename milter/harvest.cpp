#include "milter/harvest.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace milter {

keystore::Capabilities keystore_capabilities(const smime::Capabilities& caps) {
  keystore::Capabilities k;
  if (caps.present) {
    k.aes_gcm = caps.aes256_gcm || caps.aes128_gcm;
  }
  return k;
}

namespace {

// The validated path without the leaf (keystore::harvest takes the leaf apart).
std::vector<smime::ossl::Cert> issuers_of(const smime::SignerReport& s) {
  std::vector<smime::ossl::Cert> out;
  for (std::size_t i = 1; i < s.chain.size(); ++i) {
    out.push_back(smime::ossl::share(s.chain[i].get()));
  }
  return out;
}

}  // namespace

std::vector<std::string> harvest_signers(keystore::Keystore& store,
                                         const smime::VerifyReport& report,
                                         std::string_view queue_id) {
  std::vector<std::string> notes;
  const std::string_view qid = queue_id.empty() ? std::string_view("NOQUEUE") : queue_id;
  for (const auto& s : report.signers) {
    if (s.result != smime::AuthResult::kPass || !s.cert || s.chain.empty()) {
      continue;
    }
    const std::string fp = s.fingerprint.substr(0, 16);
    try {
      auto h = store.harvest(*s.cert, issuers_of(s), keystore_capabilities(s.capabilities));
      if (!h) {
        spdlog::warn("{}: certificate {} not harvested (the message is not affected): {}", qid,
                     s.fingerprint, h.error().message());
        notes.push_back("harvest-failed=" + fp);
      } else if (h->changed) {
        notes.push_back("harvested=" + fp);
      }
    } catch (const std::exception& e) {  // never let harvesting tempfail the message
      spdlog::warn("{}: certificate {} not harvested (the message is not affected): {}", qid,
                   s.fingerprint, e.what());
      notes.push_back("harvest-failed=" + fp);
    }
  }
  return notes;
}

}  // namespace milter
