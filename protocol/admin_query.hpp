#pragma once

// The admin API's requests and answers as plain data (docs/console.md):
// the query of a paged listing, a request as it travels between nodes,
// and the merge of every node's answer into one. No actors, no sockets:
// the inspector and the HTTP handlers both build on this, and the unit
// suite `protocol.admin_query` checks it alone.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::protocol::admin {

/// How many rows a page may hold at most, and by default.
constexpr uint64_t max_limit = 1000;
constexpr uint64_t default_limit = 100;

/// The query of a paged listing (`/actors`, `/topics`,
/// `/topics/subscribers`).
struct page_query {
  std::vector<std::string> kinds; ///< empty: every kind
  std::string node;               ///< empty: every node
  std::string name;               ///< substring of the name (or pattern)
  std::string sort;               ///< a sort key of the listing
  bool descending = false;
  uint64_t offset = 0;
  uint64_t limit = default_limit;
};

/// A listing's sort keys: the first is the default; `descending` names
/// those whose default order is high to low (the figures).
struct sort_keys {
  std::vector<std::string> keys;
  std::vector<std::string> descending;
};

/// The actor kinds the inspector knows, as the API names them.
const std::vector<std::string>& kind_names();

/// A query string's values for one parameter name, in order (the HTTP
/// layer decodes them).
using param_lookup = std::function<std::vector<std::string>(std::string_view)>;

/// Parses a listing's query parameters. Returns the query, or a message
/// naming the bad parameter. `with_kinds`: the listing takes `kind`.
std::variant<page_query, std::string>
parse_page_query(const param_lookup& params, const sort_keys& keys,
                 bool with_kinds);

/// A whole number of at most 19 digits (an offset, an id, an interval),
/// or none.
std::optional<uint64_t> parse_count(std::string_view text);

/// The JSON field a sort key orders by (`age` orders by `age_ms`).
std::string sort_field(const std::string& key);

/// A request as the inspector takes it and as it travels to the other
/// nodes' inspectors: an operation and its arguments.
struct request {
  std::string op; ///< node, actors, actor, tree, topics, subscribers,
                  ///< services, reset, maintenance, set_maintenance, stop
  page_query page;
  uint64_t id = 0;  ///< actor, stop
  std::string arg;  ///< a service (reset), a pattern (subscribers),
                    ///< a reason (stop)
  std::string body; ///< set_maintenance: the JSON body
  std::string who;  ///< the admin's `sub`
};

std::string encode_request(const request& req);
std::optional<request> decode_request(std::string_view text);

/// Merges per-node pages, each `{"node":..,"total":N,"items":[...]}`
/// holding that node's first `offset + limit` matches in order, into one
/// page of the whole cluster: items ordered by the sort field, then node,
/// then id. `nodes`: every member asked; `missing`: those that did not
/// answer.
std::string merge_pages(const std::vector<std::string>& answers,
                        const page_query& q,
                        const std::vector<std::string>& nodes,
                        const std::vector<std::string>& missing);

/// Merges per-node answers into `{"items":[...],"nodes":..,"missing":..,
/// "complete":..}`: an answer with an `items` array adds its items, any
/// other answer adds itself. Each of `extra_arrays` (e.g. "layers") is
/// concatenated over the answers the same way. Answers that are not JSON
/// are left out.
std::string merge_items(const std::vector<std::string>& answers,
                        const std::vector<std::string>& nodes,
                        const std::vector<std::string>& missing,
                        const std::vector<std::string>& extra_arrays = {});

/// The `"nodes":[..],"missing":[..],"complete":..` members (without
/// braces) every cluster-wide answer ends with.
std::string coverage_members(const std::vector<std::string>& nodes,
                             const std::vector<std::string>& missing);

} // namespace herald::protocol::admin
