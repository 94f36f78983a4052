#pragma once

// What the console offers on Tab: the candidates for the word being
// written, given the words before it. Actor ids, topics and services come
// from the node and are kept a few seconds.

#include "commands.hpp"

#include <string>
#include <vector>

namespace herald::ctl {

/// Candidates for the word after `before` (the line up to that word);
/// the caller keeps those starting with what is written.
std::vector<std::string> completions(const context& ctx,
                                     const std::vector<std::string>& before,
                                     const std::string& word);

} // namespace herald::ctl
