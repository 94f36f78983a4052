// JWTs (PROTOCOL §3). The first byte picks the mode:
// - even: the rest is a token as a client sends it, verified by a verifier
//   that takes HS256 and RS256 (a key made at start), issuer and audience
//   set; whatever the token, the answer is an identity or a reason that
//   never repeats a token-like text;
// - odd: the rest is `<header JSON>\n<claims JSON>`, signed here with the
//   HS256 secret, so that the claims reach the checks behind the signature
//   (exp, nbf, iss, aud, sub, roles and the other claims).
// Also base64url_decode on the token's parts: what decodes encodes back
// to the same text.

#include "fuzz.hpp"

#include "protocol/jwt.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

using namespace herald::protocol;

namespace {

constexpr int64_t now = 1700000000;
const std::string secret = "fuzz-secret";

std::string public_key_pem() {
  EVP_PKEY* pkey = EVP_RSA_gen(1024);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, pkey);
  char* text = nullptr;
  auto len = BIO_get_mem_data(pub, &text);
  std::string out{text, static_cast<std::size_t>(len)};
  BIO_free(pub);
  EVP_PKEY_free(pkey);
  return out;
}

const jwt_verifier& verifier() {
  static const jwt_verifier v = [] {
    jwt_settings s;
    s.hs256_secret = secret;
    s.rs256_public_key_pem = public_key_pem();
    s.issuer = "https://issuer.example";
    s.audience = "herald";
    auto made = jwt_verifier::create(s);
    HERALD_FUZZ_CHECK(std::holds_alternative<jwt_verifier>(made));
    return std::get<jwt_verifier>(std::move(made));
  }();
  return v;
}

void verify(const std::string& token) {
  auto r = verifier().verify(token, now);
  if (auto* why = std::get_if<std::string>(&r)) {
    HERALD_FUZZ_CHECK(!why->empty());
    // A token-like text (a JSON header in base64url) never comes back; a
    // shorter or other one may be a fixed reason's words by chance.
    if (token.size() >= 24 && token.rfind("eyJ", 0) == 0)
      HERALD_FUZZ_CHECK(why->find(token) == std::string::npos);
  } else {
    HERALD_FUZZ_CHECK(!std::get<identity>(r).sub.empty());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = herald::fuzz::text_of(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    verify(std::string{text});
    for (auto part : herald::fuzz::split(text, '.', 4)) {
      std::string bytes;
      if (base64url_decode(part, bytes))
        // One encoding per byte string: the text comes back unchanged.
        HERALD_FUZZ_CHECK(base64url_encode(bytes) == part);
    }
    return 0;
  }
  auto parts = herald::fuzz::split(text, '\n', 2);
  if (parts.size() != 2)
    return 0;
  verify(sign_with_header(parts[0], parts[1], secret));
  return 0;
}
