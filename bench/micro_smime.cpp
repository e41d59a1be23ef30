// micro_smime: Google Benchmark programs for the S/MIME engine (smime/), each measured
// next to the raw OpenSSL CMS operation it performs, in the same run, on the same bytes:
//   sign     smime::sign_message      vs CMS_sign (detached) + i2d_CMS_bio
//   encrypt  smime::encrypt_message   vs CMS_encrypt + i2d_CMS_bio
//   verify   smime::verify_message    vs d2i_CMS_bio + CMS_verify (chain to the root)
//   decrypt  smime::decrypt_message   vs d2i_CMS_bio + CMS_decrypt
// "ours" includes the MIME work (parsing, canonicalisation, base64, headers) that the
// raw DER operations leave out: the ratio is what the S/MIME layer adds to the crypto.
// Benchmark names: OP/KEY/SIZE[/rN/CIPHER]/{ours,raw}; bench/report.py pairs them and
// prints ours/raw. Sizes 2 KB .. 10 MB; keys rsa2048, rsa3072, p256; encrypt to 1, 3
// and 10 recipients with AES-256-CBC and AES-256-GCM. --benchmark_filter selects.
//
// The PKI comes from tests/common/make_pki.sh (the openssl CLI): directory in $BENCH_PKI.
// Benchmark-only code; single-threaded.
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "smime/decrypt.h"
#include "smime/encrypt.h"
#include "smime/ossl.h"
#include "smime/sign.h"
#include "smime/verify.h"

namespace bench {
namespace {

namespace fs = std::filesystem;
using smime::ossl::Bio;
using smime::ossl::Cert;
using smime::ossl::Cms;
using smime::ossl::PKey;

fs::path pki_path(const std::string& name) {
  const char* dir = std::getenv("BENCH_PKI");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("BENCH_PKI must name a directory made by tests/common/make_pki.sh");
  }
  return fs::path(dir) / name;
}

Bio open_file(const fs::path& p) {
  Bio b(::BIO_new_file(p.c_str(), "r"));
  if (!b) {
    throw std::runtime_error("cannot open " + p.string());
  }
  return b;
}

Cert load_cert(const std::string& name) {
  Bio b = open_file(pki_path(name + ".crt"));
  Cert c(::PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) {
    throw std::runtime_error("bad certificate " + name);
  }
  return c;
}

PKey load_key(const std::string& name) {
  Bio b = open_file(pki_path(name + ".key"));
  PKey k(::PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) {
    throw std::runtime_error("bad key " + name);
  }
  return k;
}

smime::Credential credential(const std::string& name) {
  smime::Credential c;
  c.cert = load_cert(name);
  c.key = load_key(name);
  c.chain.push_back(load_cert("inter"));
  return c;
}

// The key types of the matrix and the PKI leaf holding each (make_pki.sh).
struct KeyKind {
  const char* label;
  const char* leaf;
  const char* address;
};
constexpr KeyKind kKeys[] = {
    {"rsa2048", "alice", "alice@example.gov"},
    {"rsa3072", "erin", "erin@partner.example"},
    {"p256", "carol", "carol@example.gov"},
};
constexpr std::size_t kSizes[] = {2048, 10240, 102400, 1048576, 10485760};
constexpr int kRecipientCounts[] = {1, 3, 10};

// Entity (Content-Type + body of `size` bytes in 76-column CRLF lines) and the whole
// message around it.
std::string entity(std::size_t size) {
  std::string e = "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
  const std::string line = std::string(76, 'x') + "\r\n";
  std::string body;
  body.reserve(size + line.size());
  while (body.size() < size) {
    body += line;
  }
  body.resize(size - 2);
  body += "\r\n";
  return e + body;
}

std::string message(const KeyKind& k, std::size_t size) {
  return std::string("From: ") + k.address + "\r\nTo: bob@example.gov\r\nSubject: bench\r\n" +
         "Message-ID: <bench@example.gov>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n" +
         "MIME-Version: 1.0\r\n" + entity(size);
}

// Loaded once: the milter's keystore caches nothing either way, but a disk read per
// call would measure this benchmark's file access, not the engine.
class BenchTrust : public smime::TrustStore {
 public:
  policy::Result<std::vector<Cert>> anchors() override {
    std::vector<Cert> v;
    v.push_back(smime::ossl::share(root_.get()));
    return v;
  }
  policy::Result<std::vector<Cert>> intermediates() override {
    std::vector<Cert> v;
    v.push_back(smime::ossl::share(inter_.get()));
    return v;
  }

 private:
  Cert root_ = load_cert("root");
  Cert inter_ = load_cert("inter");
};

class AllGood : public smime::RevocationChecker {
 public:
  policy::Result<smime::Revocation> status(const X509& /*cert*/, const X509& /*issuer*/) override {
    smime::Revocation r;
    r.state = smime::RevocationState::kGood;
    return r;
  }
};

class OneKey : public smime::KeyProvider {
 public:
  explicit OneKey(const std::string& leaf) : cred_(credential(leaf)) {}
  smime::Lookup<smime::Credential> decryption_key(const smime::CertId& /*id*/) override {
    return std::optional<smime::Credential>(copy());
  }
  policy::Result<std::vector<smime::Credential>> all_decryption_keys() override {
    std::vector<smime::Credential> v;
    v.push_back(copy());
    return v;
  }

 private:
  smime::Credential copy() const {
    smime::Credential c;
    c.cert = smime::ossl::share(cred_.cert.get());
    c.key = smime::ossl::share(cred_.key.get());
    for (const Cert& x : cred_.chain) {
      c.chain.push_back(smime::ossl::share(x.get()));
    }
    return c;
  }
  smime::Credential cred_;
};

[[noreturn]] void fail(benchmark::State& state, const std::string& what) {
  state.SkipWithError(what.c_str());
  throw std::runtime_error(what);
}

// DER of a finished CMS structure (i2d_CMS_bio).
std::string der_of(CMS_ContentInfo* cms) {
  Bio out = smime::ossl::mem_buffer();
  if (::i2d_CMS_bio(out.get(), cms) != 1) {
    throw std::runtime_error(smime::ossl::error_text("i2d_CMS_bio"));
  }
  return smime::ossl::bio_contents(out.get());
}

Cms cms_of(const std::string& der) {
  Bio in = smime::ossl::mem_view(der);
  Cms cms(::d2i_CMS_bio(in.get(), nullptr));
  if (!cms) {
    throw std::runtime_error(smime::ossl::error_text("d2i_CMS_bio"));
  }
  return cms;
}

std::string raw_sign(const smime::Credential& c, const std::string& ent) {
  ::ERR_clear_error();
  Bio in = smime::ossl::mem_view(ent);
  smime::ossl::CertStack chain = smime::ossl::make_stack(c.chain);
  const unsigned flags = CMS_DETACHED | CMS_BINARY;
  Cms cms(::CMS_sign(c.cert.get(), c.key.get(), chain.get(), in.get(), flags));
  if (!cms) {
    throw std::runtime_error(smime::ossl::error_text("CMS_sign"));
  }
  return der_of(cms.get());
}

std::string raw_encrypt(const std::vector<Cert>& recips, const std::string& ent,
                        const EVP_CIPHER* cipher) {
  ::ERR_clear_error();
  smime::ossl::CertStack stack = smime::ossl::make_stack(recips);
  Bio in = smime::ossl::mem_view(ent);
  Cms cms(::CMS_encrypt(stack.get(), in.get(), cipher, CMS_BINARY));
  if (!cms) {
    throw std::runtime_error(smime::ossl::error_text("CMS_encrypt"));
  }
  return der_of(cms.get());
}

void raw_verify(const std::string& der, const std::string& ent, X509_STORE* store) {
  ::ERR_clear_error();
  Cms cms = cms_of(der);
  Bio content = smime::ossl::mem_view(ent);
  Bio out = smime::ossl::mem_buffer();
  if (::CMS_verify(cms.get(), nullptr, store, content.get(), out.get(), CMS_BINARY) != 1) {
    throw std::runtime_error(smime::ossl::error_text("CMS_verify"));
  }
}

void raw_decrypt(const std::string& der, const smime::Credential& c) {
  ::ERR_clear_error();
  Cms cms = cms_of(der);
  Bio out = smime::ossl::mem_buffer();
  if (::CMS_decrypt(cms.get(), c.key.get(), c.cert.get(), nullptr, out.get(), CMS_BINARY) != 1) {
    throw std::runtime_error(smime::ossl::error_text("CMS_decrypt"));
  }
}

smime::ossl::Store make_store() {
  smime::ossl::Store store(::X509_STORE_new());
  Cert root = load_cert("root");
  Cert inter = load_cert("inter");
  ::X509_STORE_add_cert(store.get(), root.get());
  ::X509_STORE_add_cert(store.get(), inter.get());  // as the milter knows intermediates too
  return store;
}

void set_bytes(benchmark::State& state, std::size_t size) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(size));
}

std::string name(const std::string& op, const KeyKind& k, std::size_t size,
                 const std::string& rest) {
  return op + "/" + k.label + "/" + std::to_string(size) + rest;
}

void register_sign(const KeyKind& k, std::size_t size) {
  benchmark::RegisterBenchmark(name("sign", k, size, "/ours").c_str(),
                               [k, size](benchmark::State& st) {
                                 const smime::Credential c = credential(k.leaf);
                                 const std::string msg = message(k, size);
                                 for (auto _ : st) {
                                   auto r = smime::sign_message(msg, c);
                                   if (!r) {
                                     fail(st, r.error().detail());
                                   }
                                   benchmark::DoNotOptimize(r->data());
                                 }
                                 set_bytes(st, size);
                               });
  benchmark::RegisterBenchmark(name("sign", k, size, "/raw").c_str(),
                               [k, size](benchmark::State& st) {
                                 const smime::Credential c = credential(k.leaf);
                                 const std::string ent = entity(size);
                                 for (auto _ : st) {
                                   std::string out = raw_sign(c, ent);
                                   benchmark::DoNotOptimize(out.data());
                                 }
                                 set_bytes(st, size);
                               });
}

void register_verify(const KeyKind& k, std::size_t size) {
  benchmark::RegisterBenchmark(name("verify", k, size, "/ours").c_str(),
                               [k, size](benchmark::State& st) {
                                 const smime::Credential c = credential(k.leaf);
                                 auto signed_msg = smime::sign_message(message(k, size), c);
                                 if (!signed_msg) {
                                   fail(st, signed_msg.error().detail());
                                 }
                                 BenchTrust trust;
                                 AllGood rev;
                                 smime::VerifyOptions vo;
                                 vo.from_address = k.address;
                                 for (auto _ : st) {
                                   auto r = smime::verify_message(*signed_msg, trust, rev, vo);
                                   if (!r || r->result != smime::AuthResult::kPass) {
                                     fail(st, r ? "verify: " + r->reason : r.error().detail());
                                   }
                                 }
                                 set_bytes(st, size);
                               });
  benchmark::RegisterBenchmark(name("verify", k, size, "/raw").c_str(),
                               [k, size](benchmark::State& st) {
                                 const smime::Credential c = credential(k.leaf);
                                 const std::string ent = entity(size);
                                 const std::string der = raw_sign(c, ent);
                                 smime::ossl::Store store = make_store();
                                 for (auto _ : st) {
                                   raw_verify(der, ent, store.get());
                                 }
                                 set_bytes(st, size);
                               });
}

std::vector<Cert> recipients(const KeyKind& k, int n) {
  // RSA keys: the RSA leaves of the PKI in turn; P-256: carol (ECDH key agreement).
  static const char* const kRsa2048[] = {"bob", "alice", "kepala", "sistem"};
  std::vector<Cert> v;
  for (int i = 0; i < n; ++i) {
    const std::string leaf = std::string(k.label) == "rsa2048"
                                 ? kRsa2048[static_cast<std::size_t>(i) % std::size(kRsa2048)]
                                 : k.leaf;
    v.push_back(load_cert(leaf));
  }
  return v;
}

void register_encrypt(const KeyKind& k, std::size_t size, int n, bool gcm) {
  const std::string rest = "/r" + std::to_string(n) + (gcm ? "/gcm" : "/cbc");
  benchmark::RegisterBenchmark(
      name("encrypt", k, size, rest + "/ours").c_str(), [k, size, n, gcm](benchmark::State& st) {
        const std::vector<Cert> rc = recipients(k, n);
        const std::string msg = message(k, size);
        smime::EncryptOptions eo;
        eo.cipher = gcm ? smime::Cipher::kAes256Gcm : smime::Cipher::kAes256Cbc;
        for (auto _ : st) {
          auto r = smime::encrypt_message(msg, rc, eo);
          if (!r) {
            fail(st, r.error().detail());
          }
          benchmark::DoNotOptimize(r->data());
        }
        set_bytes(st, size);
      });
  benchmark::RegisterBenchmark(
      name("encrypt", k, size, rest + "/raw").c_str(), [k, size, n, gcm](benchmark::State& st) {
        const std::vector<Cert> rc = recipients(k, n);
        const std::string ent = entity(size);
        const EVP_CIPHER* cipher = gcm ? ::EVP_aes_256_gcm() : ::EVP_aes_256_cbc();
        for (auto _ : st) {
          std::string out = raw_encrypt(rc, ent, cipher);
          benchmark::DoNotOptimize(out.data());
        }
        set_bytes(st, size);
      });
}

void register_decrypt(const KeyKind& k, std::size_t size, bool gcm) {
  const std::string rest = std::string("/r1") + (gcm ? "/gcm" : "/cbc");
  benchmark::RegisterBenchmark(
      name("decrypt", k, size, rest + "/ours").c_str(), [k, size, gcm](benchmark::State& st) {
        smime::EncryptOptions eo;
        eo.cipher = gcm ? smime::Cipher::kAes256Gcm : smime::Cipher::kAes256Cbc;
        auto enc = smime::encrypt_message(message(k, size), recipients(k, 1), eo);
        if (!enc) {
          fail(st, enc.error().detail());
        }
        const std::string leaf = std::string(k.label) == "rsa2048" ? "bob" : k.leaf;
        OneKey keys(leaf);
        for (auto _ : st) {
          auto r = smime::decrypt_message(*enc, keys);
          if (!r) {
            fail(st, r.error().detail());
          }
          benchmark::DoNotOptimize(r->message.data());
        }
        set_bytes(st, size);
      });
  benchmark::RegisterBenchmark(
      name("decrypt", k, size, rest + "/raw").c_str(), [k, size, gcm](benchmark::State& st) {
        const std::string leaf = std::string(k.label) == "rsa2048" ? "bob" : k.leaf;
        const std::string enc = raw_encrypt(recipients(k, 1), entity(size),
                                            gcm ? ::EVP_aes_256_gcm() : ::EVP_aes_256_cbc());
        const smime::Credential c = credential(leaf);
        for (auto _ : st) {
          raw_decrypt(enc, c);
        }
        set_bytes(st, size);
      });
}

void register_all() {
  for (const KeyKind& k : kKeys) {
    for (const std::size_t size : kSizes) {
      register_sign(k, size);
      register_verify(k, size);
      for (const int n : kRecipientCounts) {
        register_encrypt(k, size, n, false);
        register_encrypt(k, size, n, true);
      }
      register_decrypt(k, size, false);
      register_decrypt(k, size, true);
    }
  }
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "micro_smime: %s\n", e.what());
    return 1;
  }
  benchmark::Shutdown();
  return 0;
}
