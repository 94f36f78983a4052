#pragma once

#include "protocol/identity.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace herald::protocol {

/// What a node accepts as a token (PROTOCOL §3). An empty secret or key
/// disables that algorithm; `alg: none` is never accepted.
struct jwt_settings {
  std::string hs256_secret;
  std::string rs256_public_key_pem; ///< PEM text, not a path
  std::string issuer;               ///< checked when non-empty
  std::string audience;             ///< checked when non-empty
  int64_t leeway_seconds = 30;      ///< applied to exp and nbf
};

/// Verifies compact JWS tokens with OpenSSL. Immutable after create(), safe
/// to share between threads.
class jwt_verifier {
public:
  /// Loads the key material; the error names what is wrong with it.
  static std::variant<jwt_verifier, std::string>
  create(const jwt_settings& settings);

  /// Checks signature, algorithm, exp, nbf, iss, aud and a non-empty `sub`;
  /// on success returns the identity, else a short reason (never containing
  /// the token itself).
  std::variant<identity, std::string> verify(std::string_view token,
                                             int64_t now_seconds) const;

private:
  struct impl;
  std::shared_ptr<const impl> impl_;
};

/// Signs `claims_json` (a JSON object) with HS256. For development tokens
/// and tests.
std::string sign_hs256(std::string_view claims_json, std::string_view secret);

/// Signs `claims_json` with RS256 using a PEM private key; empty on error.
std::string sign_rs256(std::string_view claims_json,
                       std::string_view private_key_pem);

/// Signs with an arbitrary header (tests: `alg: none`, unknown algorithms).
std::string sign_with_header(std::string_view header_json,
                             std::string_view claims_json,
                             std::string_view hs256_secret);

/// base64url without padding, as JWS uses it.
std::string base64url_encode(std::string_view bytes);
/// Returns false on characters outside the base64url alphabet.
bool base64url_decode(std::string_view text, std::string& out);

} // namespace herald::protocol
