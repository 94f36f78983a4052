#pragma once

#include "protocol/identity.hpp"

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::protocol {

/// One condition on claims. Values may hold variables taken from the topic:
/// `{scope}`, `{scope_id}`, `{resource_type}`, `{resource_id}` (segments 1
/// to 4) and `{1}`..`{16}` (any segment by position).
struct claim_condition {
  enum class op { equals, contains, any_of };
  std::string claim; ///< claim name, e.g. `customer_id`
  op kind = op::equals;
  std::vector<std::string> values; ///< one for equals/contains; any_of: many
};

/// A scope's rule: every condition must hold.
struct permission_rule {
  std::string scope; ///< the first topic segment, e.g. `customer_id`
  std::vector<claim_condition> all_of;
  /// When not empty: the resource types of this scope, instead of the
  /// global list (the default `system` rule has its own).
  std::vector<std::string> resource_types;
};

struct permission_rules {
  /// Allowed values of the third segment (`resource_type`). Empty: any.
  std::vector<std::string> resource_types;
  std::vector<permission_rule> rules;

  /// The defaults of PROTOCOL §3 (reproducing seeds/topic-subscriptions.rst),
  /// plus the `system` scope of the node's health topics (admin role;
  /// resource types service, layer, maintenance, error).
  static permission_rules defaults();

  /// Parses the configuration's JSON form, an object
  /// `{"resource_types":[...],"rules":[{"scope":"...","all_of":[
  ///   {"claim":"customer_id","equals":"{scope_id}"},
  ///   {"claim":"roles","any_of":["admin","manager"]},
  ///   {"claim":"agent_ids","contains":"{scope_id}"}]}]}`; a rule may list
  /// its own `"resource_types"`.
  /// A key left out keeps its default (so `{}` is defaults()); a key given
  /// replaces the default whole, and `"resource_types":[]` allows any type.
  /// Unknown keys, duplicate scopes, a rule without `all_of` (write `[]` to
  /// open a scope to everyone) and unknown `{variables}` are errors.
  /// `equals` holds for a single-valued claim equal to the value;
  /// `contains` for a claim with the value among its values; `any_of` for a
  /// claim sharing at least one value with the list.
  /// The error names the failing entry, e.g. `rules[1].all_of[0]: ...`.
  static std::variant<permission_rules, std::string>
  from_json(std::string_view json);
};

enum class permission_result { allowed, invalid_topic, denied };

struct permission_verdict {
  permission_result result;
  std::string message; ///< human-readable reason when not allowed
};

/// The whole subscribe-time check of one pattern: syntax (PROTOCOL §2), the
/// scope rules (fewer than 3 segments, a wildcard `*` or `>` in scope, scope
/// id or resource type, unknown scope, resource type outside the list:
/// invalid_topic), then the scope's claim conditions (denied). Wildcards
/// from the fourth segment on are fine (`customer_id:c1:call:>`). A
/// condition whose variable names a segment the pattern lacks fails; one
/// naming a wildcard segment compares against `*` or `>` literally, so in
/// practice denies. Claims come from `who.claims`, else from the typed
/// fields of the same name.
permission_verdict check_subscribe(const permission_rules& rules,
                                   std::string_view pattern,
                                   const identity& who);

} // namespace herald::protocol
