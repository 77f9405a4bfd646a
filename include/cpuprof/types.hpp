#pragma once

#include <cstdint>
#include <sys/types.h>

namespace cpuprof {

/// An address in the target process.
using RemoteAddr = std::uint64_t;
using Pid = pid_t;
using Tid = pid_t;

} // namespace cpuprof
