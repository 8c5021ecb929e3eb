#include <amimo/report/command_line.h>

namespace amimo::report {

std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\"'\\$`;&|<>*?()[]{}") == std::string::npos) return arg;
  std::string quoted = "'";
  for (const char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string command_line(int argc, const char* const* argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + shell_quote(argv[i]);
  return text;
}

}  // namespace amimo::report
