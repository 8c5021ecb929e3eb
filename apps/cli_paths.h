#pragma once
// Path checks shared by the executables' command lines:
//  - a path option given an empty value is a bad command line (status 2), never "not given"
//    (`amimo-solverd --curve-secret-key ""` started a plain-TCP server, `amimo-ue --config
//    ""` ran the default configuration): whether an option was given is its CLI11 count;
//  - an output file must not be one of the run's input files (`--port-file my.yaml` next to
//    `--config my.yaml` replaced the configuration; next to `--curve-secret-key` the key).

#include <amimo/core/error.h>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace amimo::apps {

/// CLI11 check refusing an empty value (a parse error: exit status 2).
inline CLI::Validator non_empty_value() {
  return CLI::Validator(
      [](std::string& value) { return value.empty() ? std::string("the value is empty: give a path") : std::string(); },
      "NON-EMPTY", "NON-EMPTY");
}

/// A path named on the command line (or in a configuration) and what named it, for messages.
struct named_path {
  std::string what;  ///< "--config", "--port-file", "payload", …
  std::string path;
};

/// Throws amimo::config_error when an output and an input are the same existing file
/// (std::filesystem::equivalent: also through a symlink or a hard link). An output that does
/// not exist yet cannot be an input.
inline void refuse_output_over_input(const std::vector<named_path>& outputs, const std::vector<named_path>& inputs) {
  for (const named_path& out : outputs) {
    for (const named_path& in : inputs) {
      std::error_code ec;
      if (out.path.empty() || in.path.empty() || !std::filesystem::equivalent(out.path, in.path, ec) || ec) continue;
      throw config_error(out.what + " '" + out.path + "' is the same file as " + in.what + " '" + in.path +
                         "': refusing to overwrite an input");
    }
  }
}

}  // namespace amimo::apps
