#include "protocol/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <unordered_set>

namespace herald::protocol {

namespace {

// A token is a header line's worth of data; anything much larger is an
// attack on the parser, so refuse it before decoding.
constexpr std::size_t max_token_bytes = 16 * 1024;

constexpr char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

struct bio_deleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key,
                                          std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  // A zero-length key still needs a valid pointer for HMAC().
  static const unsigned char empty_key = 0;
  const void* key_ptr =
      key.empty() ? static_cast<const void*>(&empty_key) : key.data();
  HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(),
       out.data(), &len);
  return out;
}

// Accepts SubjectPublicKeyInfo ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY")
// PEM text; the decoder tries every structure it knows for RSA.
pkey_ptr load_rsa_public_key(std::string_view pem) {
  EVP_PKEY* pkey = nullptr;
  OSSL_DECODER_CTX* dctx = OSSL_DECODER_CTX_new_for_pkey(
      &pkey, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (dctx == nullptr)
    return nullptr;
  auto data = reinterpret_cast<const unsigned char*>(pem.data());
  size_t len = pem.size();
  bool ok = OSSL_DECODER_from_data(dctx, &data, &len) == 1;
  OSSL_DECODER_CTX_free(dctx);
  pkey_ptr result{pkey};
  if (!ok || !result || EVP_PKEY_is_a(result.get(), "RSA") != 1)
    return nullptr;
  return result;
}

/// Parses `text` as a JSON object with no duplicate member names: a token
/// whose `alg` or `sub` appears twice could be read two ways (RFC 7519 §4).
bool parse_json_object(const std::string& text, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return false;
  std::unordered_set<std::string_view> names;
  for (auto& m : doc.GetObject()) {
    std::string_view name{m.name.GetString(), m.name.GetStringLength()};
    if (!names.insert(name).second)
      return false;
  }
  return true;
}

/// A number as JSON renders it (`42`, `1.5`).
std::string render_number(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

/// The string form of a scalar claim; false for objects, arrays and null.
bool scalar_text(const rapidjson::Value& v, std::string& out) {
  if (v.IsString()) {
    out.assign(v.GetString(), v.GetStringLength());
    return true;
  }
  if (v.IsNumber()) {
    out = render_number(v);
    return true;
  }
  if (v.IsBool()) {
    out = v.GetBool() ? "true" : "false";
    return true;
  }
  return false;
}

/// A claim as a list: a scalar gives one element, an array its scalar
/// elements (others are skipped). False when the claim has no usable form.
bool claim_values(const rapidjson::Value& v, std::vector<std::string>& out) {
  out.clear();
  std::string text;
  if (v.IsArray()) {
    for (auto& x : v.GetArray())
      if (scalar_text(x, text))
        out.push_back(std::move(text));
    return true;
  }
  if (scalar_text(v, text)) {
    out.push_back(std::move(text));
    return true;
  }
  return false;
}

// Reads a NumericDate as seconds, truncating fractions. False for a claim
// that is present but not a number.
bool numeric_date(const rapidjson::Value& v, double& out) {
  if (!v.IsNumber())
    return false;
  out = v.GetDouble();
  return true;
}

bool audience_matches(const rapidjson::Value& aud, std::string_view want) {
  auto eq = [&](const rapidjson::Value& x) {
    return x.IsString()
           && std::string_view{x.GetString(), x.GetStringLength()} == want;
  };
  if (aud.IsArray()) {
    for (auto& x : aud.GetArray())
      if (eq(x))
        return true;
    return false;
  }
  return eq(aud);
}

std::string sign_input(std::string_view header_json,
                       std::string_view claims_json) {
  std::string input = base64url_encode(header_json);
  input += '.';
  input += base64url_encode(claims_json);
  return input;
}

} // namespace

struct jwt_verifier::impl {
  std::string hs256_secret;
  pkey_ptr rs256_key;
  std::string issuer;
  std::string audience;
  int64_t leeway_seconds = 0;

  std::variant<identity, std::string> verify(std::string_view token,
                                             int64_t now) const;
  bool check_signature(const std::string& alg, std::string_view signed_part,
                       const std::string& sig) const;
};

std::variant<jwt_verifier, std::string>
jwt_verifier::create(const jwt_settings& settings) {
  auto st = std::make_shared<impl>();
  st->hs256_secret = settings.hs256_secret;
  st->issuer = settings.issuer;
  st->audience = settings.audience;
  st->leeway_seconds = settings.leeway_seconds;
  if (settings.leeway_seconds < 0)
    return std::string{"jwt leeway must not be negative"};
  if (!settings.rs256_public_key_pem.empty()) {
    st->rs256_key = load_rsa_public_key(settings.rs256_public_key_pem);
    if (!st->rs256_key)
      return std::string{"jwt RS256 key is not an RSA public key in PEM form"};
  }
  // A verifier that accepts nothing is a configuration mistake, not a
  // policy: say so at start instead of answering every client with 401.
  if (st->hs256_secret.empty() && !st->rs256_key)
    return std::string{"jwt needs an HS256 secret or an RS256 public key"};
  jwt_verifier result;
  result.impl_ = std::move(st);
  return result;
}

std::variant<identity, std::string>
jwt_verifier::verify(std::string_view token, int64_t now_seconds) const {
  if (!impl_)
    return std::string{"no verifier configured"};
  return impl_->verify(token, now_seconds);
}

bool jwt_verifier::impl::check_signature(const std::string& alg,
                                         std::string_view signed_part,
                                         const std::string& sig) const {
  if (alg == "HS256") {
    auto mac = hmac_sha256(hs256_secret, signed_part);
    return sig.size() == mac.size()
           && CRYPTO_memcmp(sig.data(), mac.data(), mac.size()) == 0;
  }
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!ctx
      || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                              rs256_key.get())
             != 1)
    return false;
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
             sig.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()),
             signed_part.size())
         == 1;
}

std::variant<identity, std::string>
jwt_verifier::impl::verify(std::string_view token, int64_t now) const {
  using namespace std::string_literals;
  if (token.empty())
    return "empty token"s;
  if (token.size() > max_token_bytes)
    return "token too long"s;
  auto dot1 = token.find('.');
  auto dot2 = dot1 == token.npos ? token.npos : token.find('.', dot1 + 1);
  if (dot2 == token.npos || token.find('.', dot2 + 1) != token.npos)
    return "malformed token: expected three parts"s;
  auto header_b64 = token.substr(0, dot1);
  auto claims_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  auto sig_b64 = token.substr(dot2 + 1);
  std::string header_text;
  std::string claims_text;
  std::string sig;
  if (header_b64.empty() || !base64url_decode(header_b64, header_text))
    return "malformed token header"s;
  rapidjson::Document header;
  if (!parse_json_object(header_text, header))
    return "token header is not a JSON object"s;
  auto alg_it = header.FindMember("alg");
  if (alg_it == header.MemberEnd() || !alg_it->value.IsString())
    return "token header has no alg"s;
  std::string alg{alg_it->value.GetString(), alg_it->value.GetStringLength()};
  // Compared case-sensitively: "None" and "nOnE" are as unacceptable as
  // "none", and "hs256" is not an algorithm name JWA defines.
  if (alg == "HS256") {
    if (hs256_secret.empty())
      return "alg HS256 not accepted"s;
  } else if (alg == "RS256") {
    if (!rs256_key)
      return "alg RS256 not accepted"s;
  } else if (alg == "none") {
    return "alg none not accepted"s;
  } else {
    return "unsupported alg"s;
  }
  // We implement no header extensions, so any critical one is unknown.
  if (header.HasMember("crit"))
    return "unsupported critical header"s;
  if (sig_b64.empty() || !base64url_decode(sig_b64, sig))
    return "missing or malformed signature"s;
  if (!check_signature(alg, token.substr(0, dot2), sig))
    return "bad signature"s;
  // Only signed content is parsed past this point.
  if (claims_b64.empty() || !base64url_decode(claims_b64, claims_text))
    return "malformed token claims"s;
  rapidjson::Document claims;
  if (!parse_json_object(claims_text, claims))
    return "token claims are not a JSON object"s;
  double t = 0;
  if (auto it = claims.FindMember("exp"); it != claims.MemberEnd()) {
    if (!numeric_date(it->value, t))
      return "exp is not a number"s;
    if (static_cast<double>(now) > t + static_cast<double>(leeway_seconds))
      return "token expired"s;
  }
  if (auto it = claims.FindMember("nbf"); it != claims.MemberEnd()) {
    if (!numeric_date(it->value, t))
      return "nbf is not a number"s;
    if (static_cast<double>(now + leeway_seconds) < t)
      return "token not yet valid"s;
  }
  if (!issuer.empty()) {
    auto it = claims.FindMember("iss");
    if (it == claims.MemberEnd() || !it->value.IsString()
        || issuer
               != std::string_view{it->value.GetString(),
                                   it->value.GetStringLength()})
      return "issuer mismatch"s;
  }
  if (!audience.empty()) {
    auto it = claims.FindMember("aud");
    if (it == claims.MemberEnd() || !audience_matches(it->value, audience))
      return "audience mismatch"s;
  }
  auto sub_it = claims.FindMember("sub");
  if (sub_it == claims.MemberEnd() || !sub_it->value.IsString()
      || sub_it->value.GetStringLength() == 0)
    return "missing sub"s;
  identity who;
  who.sub.assign(sub_it->value.GetString(), sub_it->value.GetStringLength());
  std::vector<std::string> values;
  for (auto& m : claims.GetObject()) {
    if (!claim_values(m.value, values))
      continue;
    std::string name{m.name.GetString(), m.name.GetStringLength()};
    // The well-known claims fill the typed fields; a list-valued one given
    // as a scalar (`"roles":"admin"`) still counts as a one-element list.
    // Only the others go into the map: every connection keeps its identity
    // for life, so nothing is stored twice, and the time claims, already
    // checked, are not kept.
    bool typed = true;
    if (name == "roles")
      who.roles = values;
    else if (name == "agent_ids")
      who.agent_ids = values;
    else if (!m.value.IsArray() && name == "customer_id")
      who.customer_id = values.front();
    else if (!m.value.IsArray() && name == "tenant_id")
      who.tenant_id = values.front();
    else if (!m.value.IsArray() && name == "org_id")
      who.org_id = values.front();
    else if (name == "sub" || name == "exp" || name == "nbf" || name == "iat")
      ;
    else
      typed = false;
    if (!typed)
      who.claims.emplace(std::move(name), std::move(values));
  }
  return who;
}

std::string sign_hs256(std::string_view claims_json, std::string_view secret) {
  return sign_with_header(R"({"alg":"HS256","typ":"JWT"})", claims_json,
                          secret);
}

std::string sign_rs256(std::string_view claims_json,
                       std::string_view private_key_pem) {
  bio_ptr bio{BIO_new_mem_buf(private_key_pem.data(),
                              static_cast<int>(private_key_pem.size()))};
  if (!bio)
    return {};
  pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)};
  if (!key || EVP_PKEY_is_a(key.get(), "RSA") != 1)
    return {};
  auto input = sign_input(R"({"alg":"RS256","typ":"JWT"})", claims_json);
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  size_t len = 0;
  if (!ctx
      || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                            key.get())
             != 1
      || EVP_DigestSign(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(input.data()),
                        input.size())
             != 1)
    return {};
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size())
      != 1)
    return {};
  sig.resize(len);
  input += '.';
  input += base64url_encode(sig);
  return input;
}

std::string sign_with_header(std::string_view header_json,
                             std::string_view claims_json,
                             std::string_view hs256_secret) {
  auto input = sign_input(header_json, claims_json);
  input += '.';
  // Without a secret the signature part stays empty (`alg: none` tokens).
  if (!hs256_secret.empty()) {
    auto mac = hmac_sha256(hs256_secret,
                           std::string_view{input}.substr(0, input.size() - 1));
    input += base64url_encode(std::string_view{
        reinterpret_cast<const char*>(mac.data()), mac.size()});
  }
  return input;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  auto in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n =
        (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += b64url_alphabet[(n >> 18) & 63];
    out += b64url_alphabet[(n >> 12) & 63];
    out += b64url_alphabet[(n >> 6) & 63];
    out += b64url_alphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = uint32_t{in[i]} << 16;
    out += b64url_alphabet[(n >> 18) & 63];
    out += b64url_alphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    uint32_t n = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out += b64url_alphabet[(n >> 18) & 63];
    out += b64url_alphabet[(n >> 12) & 63];
    out += b64url_alphabet[(n >> 6) & 63];
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  // One leftover character carries only 6 bits: no byte can end there.
  if (text.size() % 4 == 1)
    return false;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64url_value(c);
    if (v < 0)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Unused trailing bits must be zero, so each byte string has exactly one
  // encoding and a token cannot be varied without changing its text.
  return (acc & ((1u << bits) - 1)) == 0;
}

} // namespace herald::protocol
