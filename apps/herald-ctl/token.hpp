#pragma once

// Development tokens: `herald-ctl token ...`, and the admin token the other
// commands use when none is given.

#include <string>
#include <vector>

namespace herald::ctl {

/// `herald-ctl token ARGS`: prints a token; returns the exit code.
int mint_command(const std::vector<std::string>& args);

/// The usage of `herald-ctl token`.
const char* token_usage();

/// An HS256 token for `sub=herald-ctl, roles=[admin]`, valid for an hour.
std::string admin_token(const std::string& secret);

/// `$HERALD_AUTH_JWT_HS256_SECRET`, else the development secret.
std::string default_secret();

} // namespace herald::ctl
