// Shared helpers for the verify tests: the test PKI as fakes, and messages made by the
// openssl CLI (a third party, so our bugs are not mirrored in the fixtures).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fakes.h"
#include "tests/common/test_support.h"

namespace smime::testing {

// Runs `openssl cms <args> -in <input file> -out <output file>`; returns the output.
// Fails the current test (and returns "") when openssl fails.
std::string openssl_cms(const std::vector<std::string>& args, std::string_view input);

// A plain MIME entity (no RFC 5322 headers) with Indonesian UTF-8 text.
std::string sample_entity();

// Trust = root.crt; intermediates = inter.crt; CRL = inter.crl.
FakeTrust pki_trust();
FakeRevocation pki_revocation();
// Credential from pki(<name>.crt/.key)
Credential pki_credential(std::string_view name);

// `openssl cms -sign` by the named test identities (detached unless opaque), with From.
std::string sign_by(const std::vector<std::string>& signers, std::string_view from,
                    std::string_view entity, const std::vector<std::string>& extra = {});

// Replaces the first occurrence of `what` (must be present).
std::string replace_once(std::string s, std::string_view what, std::string_view with);

}  // namespace smime::testing
