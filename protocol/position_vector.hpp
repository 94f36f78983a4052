#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::protocol {

/// One owner's part of a position: its epoch and the last of its
/// sequences covered.
struct position_entry {
  std::string epoch;
  uint64_t seq = 0;
};

/// A position in a cluster (docs/cluster.md, "Positions"): for each owner,
/// the last owner sequence the delivering node had received. Kept sorted
/// by epoch; a lone node's position is the one-entry case.
using position_vector = std::vector<position_entry>;

/// `e1-17.e2-4`: entries joined by `.`, each `<epoch>-<seq>`. A single
/// entry is the form a lone node has always used.
std::string encode_position_vector(const position_vector& v);

/// Parses what encode_position_vector makes; nullopt when malformed
/// (an empty text, a bad entry, or one epoch twice).
std::optional<position_vector> parse_position_vector(std::string_view text);

/// The entry for `epoch`, or null.
const position_entry* find_entry(const position_vector& v,
                                 std::string_view epoch);

/// Sets the entry for `epoch` to at least `seq`, keeping the order.
void raise_entry(position_vector& v, std::string_view epoch, uint64_t seq);

} // namespace herald::protocol
