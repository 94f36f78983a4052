#pragma once

// The identity type is the plugin SDK's (sdk/include/herald/sdk/identity.hpp):
// channels outside this repository read the same claims the node verified.

#include "herald/sdk/identity.hpp"

namespace herald::protocol {

using identity = sdk::identity;

} // namespace herald::protocol
