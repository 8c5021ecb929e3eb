#pragma once
// The command line as a user can paste it back into a shell, for run headers.

#include <string>

namespace amimo::report {

/// One argument quoted for a POSIX shell when it needs quoting.
std::string shell_quote(const std::string& arg);

/// argv joined with spaces, each argument shell-quoted.
std::string command_line(int argc, const char* const* argv);

}  // namespace amimo::report
