#pragma once

#include "cpuprof/types.hpp"

#include <stdexcept>
#include <string>

namespace cpuprof {

/// Base of every error cpuprof reports. The message is one line that names the problem and the fix.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The command line is wrong (exit status 2).
class UsageError : public Error {
  public:
    using Error::Error;
};

/// The profile could not be taken: no such process, not Python, no permission, unsupported
/// version (exit status 1).
class TargetError : public Error {
  public:
    using Error::Error;
};

class PermissionError : public TargetError {
  public:
    using TargetError::TargetError;
};

class NotPythonError : public TargetError {
  public:
    using TargetError::TargetError;
};

class UnsupportedVersionError : public TargetError {
  public:
    using TargetError::TargetError;
};

/// Writing an output failed (exit status 1).
class OutputError : public Error {
  public:
    using Error::Error;
};

/// A read of the target's memory failed or returned data that does not make sense. Inside the
/// sampling loop this costs one frame or one sample, never the run.
class RemoteReadError : public Error {
  public:
    RemoteReadError(Pid pid, RemoteAddr address, int err, const std::string& what);
    RemoteReadError(const std::string& what, RemoteAddr address);

    [[nodiscard]] RemoteAddr address() const noexcept { return address_; }
    [[nodiscard]] int error_number() const noexcept { return errno_; }

  private:
    RemoteAddr address_;
    int errno_;
};

} // namespace cpuprof
