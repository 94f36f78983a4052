#define CAF_SUITE protocol.jwt
#include <caf/test/unit_test.hpp>

#include "protocol/jwt.hpp"

#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>

using namespace herald::protocol;

namespace {

constexpr int64_t now = 1700000000;
const std::string secret = "s3cret-for-tests";

/// An RSA key pair in the PEM forms a node may be configured with.
struct rsa_keys {
  std::string private_pem;
  std::string public_pem;       ///< "PUBLIC KEY" (SubjectPublicKeyInfo)
  std::string public_pkcs1_pem; ///< "RSA PUBLIC KEY" (PKCS#1)
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio, &data);
  return {data, static_cast<std::size_t>(len)};
}

rsa_keys make_rsa_keys() {
  rsa_keys keys;
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  if (pkey == nullptr)
    return keys;
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  keys.private_pem = bio_text(priv);
  BIO_free(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, pkey);
  keys.public_pem = bio_text(pub);
  BIO_free(pub);
  OSSL_ENCODER_CTX* ectx = OSSL_ENCODER_CTX_new_for_pkey(
      pkey, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  if (ectx != nullptr && OSSL_ENCODER_to_data(ectx, &data, &len) == 1) {
    keys.public_pkcs1_pem.assign(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
  }
  OSSL_ENCODER_CTX_free(ectx);
  EVP_PKEY_free(pkey);
  return keys;
}

// Key generation takes a while: one pair per run, made on first use.
const rsa_keys& keys() {
  static const rsa_keys k = make_rsa_keys();
  return k;
}

const rsa_keys& other_keys() {
  static const rsa_keys k = make_rsa_keys();
  return k;
}

jwt_verifier make_verifier(jwt_settings settings) {
  auto r = jwt_verifier::create(settings);
  if (auto err = std::get_if<std::string>(&r))
    CAF_FAIL("cannot create verifier: " << *err);
  return std::get<jwt_verifier>(std::move(r));
}

jwt_verifier hs_verifier() {
  jwt_settings s;
  s.hs256_secret = secret;
  return make_verifier(s);
}

jwt_verifier rs_verifier() {
  jwt_settings s;
  s.rs256_public_key_pem = keys().public_pem;
  return make_verifier(s);
}

std::string error_of(const std::variant<identity, std::string>& r) {
  if (auto err = std::get_if<std::string>(&r))
    return *err;
  return {};
}

std::string create_error(const jwt_settings& s) {
  auto r = jwt_verifier::create(s);
  if (auto err = std::get_if<std::string>(&r))
    return *err;
  return {};
}

std::string claims_with(const std::string& extra) {
  return R"({"sub":"u1")" + (extra.empty() ? "" : "," + extra) + "}";
}

/// The three parts of a compact token.
std::vector<std::string> parts(const std::string& token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = token.find('.', start);
    out.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos)
      return out;
    start = dot + 1;
  }
}

} // namespace

CAF_TEST(base64url round trip and strictness) {
  std::string out;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    CAF_CHECK(base64url_decode(base64url_encode(s), out));
    CAF_CHECK_EQUAL(out, s);
  }
  CAF_CHECK_EQUAL(base64url_encode("\xfb\xff"), "-_8");
  CAF_CHECK(!base64url_decode("Zm9v=", out)); // padding
  CAF_CHECK(!base64url_decode("Zm+v", out));  // standard alphabet
  CAF_CHECK(!base64url_decode("Zm9vY", out)); // 1 char left over
  CAF_CHECK(!base64url_decode("Zm9=", out));  // padding
  CAF_CHECK(!base64url_decode("Zh", out));    // non-zero unused bits
  CAF_CHECK(base64url_decode("Zg", out));
  CAF_CHECK_EQUAL(out, "f");
}

CAF_TEST(create refuses unusable settings) {
  CAF_CHECK_NOT_EQUAL(create_error(jwt_settings{}), "");
  jwt_settings bad_pem;
  bad_pem.rs256_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnope\n"
                                 "-----END PUBLIC KEY-----\n";
  CAF_CHECK_NOT_EQUAL(create_error(bad_pem), "");
  jwt_settings negative;
  negative.hs256_secret = secret;
  negative.leeway_seconds = -1;
  CAF_CHECK_NOT_EQUAL(create_error(negative), "");
  jwt_verifier unset;
  CAF_CHECK_NOT_EQUAL(error_of(unset.verify(sign_hs256("{}", secret), now)),
                      "");
}

CAF_TEST(valid HS256 fills the identity) {
  auto token = sign_hs256(
      R"({"sub":"u1","roles":["admin",7],"customer_id":"c1",)"
      R"("agent_ids":["a1","a2"],"tenant_id":42,"org_id":"o1",)"
      R"("email_verified":true,"scope":"read","ratio":1.5,"nested":{"x":1},)"
      R"("exp":1700000600})",
      secret);
  auto r = hs_verifier().verify(token, now);
  CAF_REQUIRE_EQUAL(error_of(r), "");
  auto& who = std::get<identity>(r);
  CAF_CHECK_EQUAL(who.sub, "u1");
  CAF_CHECK_EQUAL(who.roles, (std::vector<std::string>{"admin", "7"}));
  CAF_CHECK_EQUAL(who.customer_id, "c1");
  CAF_CHECK_EQUAL(who.agent_ids, (std::vector<std::string>{"a1", "a2"}));
  CAF_CHECK_EQUAL(who.tenant_id, "42");
  CAF_CHECK_EQUAL(who.org_id, "o1");
  CAF_CHECK(!who.anonymous());
  auto claim = [&](const std::string& name) {
    auto it = who.claims.find(name);
    return it == who.claims.end() ? std::vector<std::string>{} : it->second;
  };
  CAF_CHECK_EQUAL(claim("scope"), (std::vector<std::string>{"read"}));
  CAF_CHECK_EQUAL(claim("email_verified"), (std::vector<std::string>{"true"}));
  CAF_CHECK_EQUAL(claim("ratio"), (std::vector<std::string>{"1.5"}));
  // Typed claims live in their fields only; time claims are not kept.
  CAF_CHECK_EQUAL(who.claims.count("sub"), 0u);
  CAF_CHECK_EQUAL(who.claims.count("agent_ids"), 0u);
  CAF_CHECK_EQUAL(who.claims.count("exp"), 0u);
  CAF_CHECK_EQUAL(who.claims.count("nested"), 0u);
}

CAF_TEST(scalar list claims become one element lists) {
  auto token =
      sign_hs256(claims_with(R"("roles":"admin","agent_ids":"a1")"), secret);
  auto r = hs_verifier().verify(token, now);
  CAF_REQUIRE_EQUAL(error_of(r), "");
  CAF_CHECK_EQUAL(std::get<identity>(r).roles,
                  (std::vector<std::string>{"admin"}));
  CAF_CHECK_EQUAL(std::get<identity>(r).agent_ids,
                  (std::vector<std::string>{"a1"}));
}

CAF_TEST(valid RS256 with either PEM form) {
  CAF_REQUIRE_NOT_EQUAL(keys().private_pem, "");
  auto token =
      sign_rs256(claims_with(R"("tenant_id":"t1")"), keys().private_pem);
  CAF_REQUIRE_NOT_EQUAL(token, "");
  auto r = rs_verifier().verify(token, now);
  CAF_REQUIRE_EQUAL(error_of(r), "");
  CAF_CHECK_EQUAL(std::get<identity>(r).tenant_id, "t1");
  CAF_REQUIRE(keys().public_pkcs1_pem.find("BEGIN RSA PUBLIC KEY")
              != std::string::npos);
  jwt_settings s;
  s.rs256_public_key_pem = keys().public_pkcs1_pem;
  CAF_CHECK_EQUAL(error_of(make_verifier(s).verify(token, now)), "");
  CAF_CHECK_EQUAL(sign_rs256("{}", "not a key"), "");
}

CAF_TEST(both algorithms configured) {
  jwt_settings s;
  s.hs256_secret = secret;
  s.rs256_public_key_pem = keys().public_pem;
  auto v = make_verifier(s);
  CAF_CHECK_EQUAL(error_of(v.verify(sign_hs256(claims_with(""), secret), now)),
                  "");
  CAF_CHECK_EQUAL(
      error_of(v.verify(sign_rs256(claims_with(""), keys().private_pem), now)),
      "");
}

CAF_TEST(forged signature) {
  auto good = parts(sign_hs256(claims_with(""), secret));
  auto other = parts(sign_hs256(claims_with(""), "another secret"));
  auto forged = good[0] + "." + good[1] + "." + other[2];
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(forged, now)), "bad signature");
  // A signature of the wrong length, and one that is not base64url.
  CAF_CHECK_NOT_EQUAL(
      error_of(hs_verifier().verify(good[0] + "." + good[1] + ".AAAA", now)),
      "");
  CAF_CHECK_NOT_EQUAL(
      error_of(hs_verifier().verify(good[0] + "." + good[1] + ".a+b/", now)),
      "");
}

CAF_TEST(tampered claims) {
  auto good = parts(sign_hs256(claims_with(R"("roles":["user"])"), secret));
  auto evil = base64url_encode(claims_with(R"("roles":["admin"])"));
  CAF_CHECK_EQUAL(
      error_of(hs_verifier().verify(good[0] + "." + evil + "." + good[2], now)),
      "bad signature");
  auto rs = parts(sign_rs256(claims_with(""), keys().private_pem));
  auto evil_rs = base64url_encode(R"({"sub":"root"})");
  CAF_CHECK_EQUAL(
      error_of(rs_verifier().verify(rs[0] + "." + evil_rs + "." + rs[2], now)),
      "bad signature");
}

CAF_TEST(exp and leeway) {
  auto v = hs_verifier(); // default leeway: 30 s
  auto at = [&](int64_t exp) {
    return error_of(v.verify(
        sign_hs256(claims_with(R"("exp":)" + std::to_string(exp)), secret),
        now));
  };
  CAF_CHECK_EQUAL(at(now - 100), "token expired");
  CAF_CHECK_EQUAL(at(now - 10), ""); // within leeway
  CAF_CHECK_EQUAL(at(now - 30), ""); // exactly at the edge
  CAF_CHECK_EQUAL(at(now - 31), "token expired");
  CAF_CHECK_EQUAL(at(now + 3600), "");
  CAF_CHECK_EQUAL(error_of(v.verify(
                      sign_hs256(claims_with(R"("exp":"soon")"), secret), now)),
                  "exp is not a number");
  jwt_settings strict;
  strict.hs256_secret = secret;
  strict.leeway_seconds = 0;
  CAF_CHECK_EQUAL(
      error_of(make_verifier(strict).verify(
          sign_hs256(claims_with(R"("exp":)" + std::to_string(now - 1)),
                     secret),
          now)),
      "token expired");
}

CAF_TEST(nbf in the future) {
  auto v = hs_verifier();
  auto at = [&](int64_t nbf) {
    return error_of(v.verify(
        sign_hs256(claims_with(R"("nbf":)" + std::to_string(nbf)), secret),
        now));
  };
  CAF_CHECK_EQUAL(at(now + 100), "token not yet valid");
  CAF_CHECK_EQUAL(at(now + 10), ""); // within leeway
  CAF_CHECK_EQUAL(at(now - 10), "");
  CAF_CHECK_EQUAL(at(now + 31), "token not yet valid");
}

CAF_TEST(alg none is rejected) {
  auto claims = claims_with("");
  auto unsigned_token = sign_with_header(R"({"alg":"none"})", claims, "");
  CAF_CHECK_EQUAL(unsigned_token.back(), '.');
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(unsigned_token, now)),
                  "alg none not accepted");
  auto with_sig = sign_with_header(R"({"alg":"none"})", claims, secret);
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(with_sig, now)),
                  "alg none not accepted");
  // Two parts only: malformed before anything else is looked at.
  auto two = unsigned_token.substr(0, unsigned_token.size() - 1);
  CAF_CHECK_NOT_EQUAL(error_of(hs_verifier().verify(two, now)), "");
  for (auto alg : {"None", "NONE", "nOnE"}) {
    auto t = sign_with_header(std::string{R"({"alg":")"} + alg + "\"}", claims,
                              secret);
    CAF_CHECK_NOT_EQUAL(error_of(hs_verifier().verify(t, now)), "");
  }
}

CAF_TEST(unknown or missing alg) {
  auto claims = claims_with("");
  for (auto header :
       {R"({"alg":"HS512"})", R"({"alg":"hs256"})", R"({"alg":"ES256"})",
        R"({"typ":"JWT"})", R"({"alg":256})"}) {
    auto t = sign_with_header(header, claims, secret);
    CAF_CHECK_NOT_EQUAL(error_of(hs_verifier().verify(t, now)), "");
  }
  auto crit =
      sign_with_header(R"({"alg":"HS256","crit":["exp"]})", claims, secret);
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(crit, now)),
                  "unsupported critical header");
  auto plain = sign_with_header(R"({"alg":"HS256"})", claims, secret);
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(plain, now)), "");
}

CAF_TEST(wrong key) {
  auto hs = sign_hs256(claims_with(""), "not the secret");
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(hs, now)), "bad signature");
  auto rs = sign_rs256(claims_with(""), other_keys().private_pem);
  CAF_REQUIRE_NOT_EQUAL(rs, "");
  CAF_CHECK_EQUAL(error_of(rs_verifier().verify(rs, now)), "bad signature");
}

CAF_TEST(wrong algorithm for the configuration) {
  auto rs = sign_rs256(claims_with(""), keys().private_pem);
  CAF_CHECK_EQUAL(error_of(hs_verifier().verify(rs, now)),
                  "alg RS256 not accepted");
  auto hs = sign_hs256(claims_with(""), secret);
  CAF_CHECK_EQUAL(error_of(rs_verifier().verify(hs, now)),
                  "alg HS256 not accepted");
  // Key confusion: HMAC keyed with the public key must not pass an
  // RS256-only verifier.
  auto confused = sign_hs256(claims_with(""), keys().public_pem);
  CAF_CHECK_NOT_EQUAL(error_of(rs_verifier().verify(confused, now)), "");
}

CAF_TEST(issuer and audience) {
  jwt_settings s;
  s.hs256_secret = secret;
  s.issuer = "https://auth.example";
  s.audience = "herald";
  auto v = make_verifier(s);
  auto check = [&](const std::string& extra) {
    return error_of(v.verify(sign_hs256(claims_with(extra), secret), now));
  };
  CAF_CHECK_EQUAL(check(R"("iss":"https://auth.example","aud":"herald")"), "");
  CAF_CHECK_EQUAL(check(R"("iss":"https://auth.example","aud":["x","herald"])"),
                  "");
  CAF_CHECK_EQUAL(check(R"("iss":"https://evil.example","aud":"herald")"),
                  "issuer mismatch");
  CAF_CHECK_EQUAL(check(R"("aud":"herald")"), "issuer mismatch");
  CAF_CHECK_EQUAL(check(R"("iss":"https://auth.example","aud":"other")"),
                  "audience mismatch");
  CAF_CHECK_EQUAL(check(R"("iss":"https://auth.example","aud":["a","b"])"),
                  "audience mismatch");
  CAF_CHECK_EQUAL(check(R"("iss":"https://auth.example")"),
                  "audience mismatch");
  // Not configured: not checked.
  CAF_CHECK_EQUAL(
      error_of(hs_verifier().verify(
          sign_hs256(claims_with(R"("iss":"x","aud":"y")"), secret), now)),
      "");
}

CAF_TEST(sub is required) {
  auto v = hs_verifier();
  for (auto claims : {R"({})", R"({"sub":""})", R"({"sub":42})",
                      R"({"sub":null})", R"({"roles":["admin"]})"})
    CAF_CHECK_EQUAL(error_of(v.verify(sign_hs256(claims, secret), now)),
                    "missing sub");
}

CAF_TEST(garbage is rejected without echoing the token) {
  auto v = hs_verifier();
  auto b64 = [](const char* s) { return base64url_encode(s); };
  std::vector<std::string> inputs{
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      "...",
      "!!!.###.$$$",
      b64("not json") + "." + b64("{}") + ".sig",
      b64("[1,2]") + "." + b64("{}") + ".sig",
      sign_with_header(R"({"alg":"HS256")", claims_with(""), secret),
      sign_with_header(R"({"alg":"HS256"})", "[\"sub\"]", secret),
      sign_with_header(R"({"alg":"HS256"})", "not json", secret),
      sign_with_header(R"({"alg":"HS256"})", R"({"sub":"a","sub":"b"})",
                       secret),
      sign_with_header(R"({"alg":"HS256","alg":"none"})", claims_with(""),
                       secret),
      std::string(20000, 'A') + ".B.C",
  };
  for (auto& token : inputs) {
    auto err = error_of(v.verify(token, now));
    CAF_CHECK_NOT_EQUAL(err, "");
    if (token.size() > 3)
      CAF_CHECK_EQUAL(err.find(token), std::string::npos);
    CAF_CHECK_LESS(err.size(), 64u);
  }
}
