#pragma once

// Who a client is: the verified JWT claims of PROTOCOL §3. Part of the
// plugin SDK (herald/sdk.hpp) and used by the node as protocol::identity.
// Plain data, no CAF: the node's pure protocol module includes it too.

#include <string>
#include <unordered_map>
#include <vector>

namespace herald::sdk {

/// The verified claims of a connection's token. An anonymous client (a
/// public endpoint without a token) has an empty `sub`.
struct identity {
  std::string sub;
  std::vector<std::string> roles;
  std::string customer_id;
  std::vector<std::string> agent_ids;
  std::string tenant_id;
  std::string org_id;
  /// Every other string, number, bool or string-array claim by name (a
  /// scalar is a one-element vector), so that configured permission rules
  /// can name any claim. The claims of the typed fields above are not
  /// repeated here, nor are exp, nbf and iat.
  std::unordered_map<std::string, std::vector<std::string>> claims;

  bool anonymous() const { return sub.empty(); }

  bool has_role(const std::string& role) const {
    for (auto& r : roles)
      if (r == role)
        return true;
    return false;
  }
};

} // namespace herald::sdk
