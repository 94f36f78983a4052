#define CAF_SUITE protocol.audience
#include <caf/test/unit_test.hpp>

#include "protocol/audience.hpp"

using namespace herald::protocol;

namespace {

identity alice() {
  identity who;
  who.sub = "u1";
  who.tenant_id = "t1";
  who.org_id = "o1";
  who.roles = {"agent", "manager"};
  return who;
}

} // namespace

CAF_TEST(empty audience allows everyone) {
  audience aud;
  CAF_CHECK(aud.empty());
  CAF_CHECK(audience_allows(aud, alice()));
  CAF_CHECK(audience_allows(aud, identity{}));
}

CAF_TEST(tenant alone) {
  audience aud;
  aud.tenant_id = "t1";
  CAF_CHECK(!aud.empty());
  CAF_CHECK(audience_allows(aud, alice()));
  auto other = alice();
  other.tenant_id = "t2";
  CAF_CHECK(!audience_allows(aud, other));
  other.tenant_id.clear();
  CAF_CHECK(!audience_allows(aud, other));
  CAF_CHECK(!audience_allows(aud, identity{}));
}

CAF_TEST(org alone) {
  audience aud;
  aud.org_ids = {"o2", "o1"};
  CAF_CHECK(audience_allows(aud, alice()));
  auto other = alice();
  other.org_id = "o3";
  CAF_CHECK(!audience_allows(aud, other));
  // A connection without an org never matches an org restriction.
  other.org_id.clear();
  CAF_CHECK(!audience_allows(aud, other));
  aud.org_ids.push_back("");
  CAF_CHECK(!audience_allows(aud, other));
}

CAF_TEST(user alone) {
  audience aud;
  aud.user_ids = {"u1"};
  CAF_CHECK(audience_allows(aud, alice()));
  auto other = alice();
  other.sub = "u2";
  CAF_CHECK(!audience_allows(aud, other));
  CAF_CHECK(!audience_allows(aud, identity{}));
}

CAF_TEST(role alone) {
  audience aud;
  aud.role_ids = {"admin", "manager"};
  CAF_CHECK(audience_allows(aud, alice()));
  auto other = alice();
  other.roles = {"agent"};
  CAF_CHECK(!audience_allows(aud, other));
  other.roles.clear();
  CAF_CHECK(!audience_allows(aud, other));
  // Roles intersect: any one shared role is enough.
  aud.role_ids = {"agent"};
  CAF_CHECK(audience_allows(aud, alice()));
}

CAF_TEST(combined restrictions must all hold) {
  audience aud;
  aud.tenant_id = "t1";
  aud.org_ids = {"o1"};
  aud.user_ids = {"u1", "u9"};
  aud.role_ids = {"manager"};
  CAF_CHECK(audience_allows(aud, alice()));
  auto t = alice();
  t.tenant_id = "t2";
  CAF_CHECK(!audience_allows(aud, t));
  auto o = alice();
  o.org_id = "o2";
  CAF_CHECK(!audience_allows(aud, o));
  auto u = alice();
  u.sub = "u2";
  CAF_CHECK(!audience_allows(aud, u));
  auto r = alice();
  r.roles = {"agent"};
  CAF_CHECK(!audience_allows(aud, r));
  // Tenant plus org, as the SSE bridge typically carries.
  audience to;
  to.tenant_id = "t1";
  to.org_ids = {"o1"};
  CAF_CHECK(audience_allows(to, alice()));
  CAF_CHECK(!audience_allows(to, o));
  CAF_CHECK(!audience_allows(to, t));
  // Users plus roles without a tenant.
  audience ur;
  ur.user_ids = {"u1"};
  ur.role_ids = {"agent"};
  CAF_CHECK(audience_allows(ur, alice()));
  CAF_CHECK(!audience_allows(ur, u));
  CAF_CHECK(audience_allows(ur, r));
}
