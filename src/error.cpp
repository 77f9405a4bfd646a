#include "cpuprof/error.hpp"

#include <cstring>
#include <fmt/format.h>

namespace cpuprof {

RemoteReadError::RemoteReadError(Pid pid, RemoteAddr address, int err, const std::string& what)
    : Error(fmt::format("{}: pid {} address {:#x}: {}", what, pid, address, std::strerror(err)))
    , address_(address)
    , errno_(err) {}

RemoteReadError::RemoteReadError(const std::string& what, RemoteAddr address)
    : Error(fmt::format("{} at {:#x}", what, address))
    , address_(address)
    , errno_(0) {}

} // namespace cpuprof
