#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace herald::protocol {

/// Who a connection is: the verified JWT claims of PROTOCOL §3.
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
  /// repeated here (permission rules fall back to the typed fields), nor
  /// are exp, nbf and iat.
  std::unordered_map<std::string, std::vector<std::string>> claims;

  bool anonymous() const { return sub.empty(); }
};

} // namespace herald::protocol
