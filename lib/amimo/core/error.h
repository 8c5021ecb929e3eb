#pragma once
// Exceptions for input the program cannot use. Numerical trouble (a singular channel,
// a diverging solve) is never an exception: it is data, reported through status objects.

#include <stdexcept>
#include <string>

namespace amimo {

/// A configuration or command-line value that is missing, unknown or out of range.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file, directory or stream that cannot be read or written.
class io_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace amimo
