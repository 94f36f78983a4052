#pragma once

#include "protocol/identity.hpp"

#include <string>
#include <vector>

namespace herald::protocol {

/// Who may see an event (PROTOCOL §1). Empty fields do not restrict.
struct audience {
  std::string tenant_id;
  std::vector<std::string> org_ids;
  std::vector<std::string> user_ids;
  std::vector<std::string> role_ids;

  bool empty() const {
    return tenant_id.empty() && org_ids.empty() && user_ids.empty()
           && role_ids.empty();
  }
};

/// The rules of `matchesAudience` in seeds/sse-event-bridge.diff.txt, with
/// PROTOCOL §1's reading: a tenant given must equal the connection's tenant;
/// orgs, when given, must contain the connection's org; users, when given,
/// must contain the connection's user; roles, when given, must intersect the
/// connection's roles. An empty audience lets everyone through.
bool audience_allows(const audience& aud, const identity& who);

} // namespace herald::protocol
