#include "protocol/audience.hpp"

#include <algorithm>

namespace herald::protocol {

namespace {

// Audience lists are short (a handful of ids), so a linear scan beats
// building a set per delivery.
bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

bool audience_allows(const audience& aud, const identity& who) {
  // An empty value on the connection's side never satisfies a restriction:
  // an anonymous or org-less connection must not match an audience entry
  // that happens to be empty too.
  if (!aud.tenant_id.empty()
      && (who.tenant_id.empty() || who.tenant_id != aud.tenant_id))
    return false;
  if (!aud.org_ids.empty()
      && (who.org_id.empty() || !contains(aud.org_ids, who.org_id)))
    return false;
  if (!aud.user_ids.empty()
      && (who.sub.empty() || !contains(aud.user_ids, who.sub)))
    return false;
  if (!aud.role_ids.empty()) {
    auto hit = std::any_of(
        who.roles.begin(), who.roles.end(), [&](const std::string& role) {
          return !role.empty() && contains(aud.role_ids, role);
        });
    if (!hit)
      return false;
  }
  return true;
}

} // namespace herald::protocol
