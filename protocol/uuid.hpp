#pragma once

#include <string>

namespace herald::protocol {

/// A random (version 4) UUID in its canonical 36-character form. Uses a
/// thread-local generator seeded from std::random_device.
std::string make_uuid_v4();

} // namespace herald::protocol
