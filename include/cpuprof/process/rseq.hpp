#pragma once

#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace cpuprof::process {

/// Where a thread of the target finds the CPU it runs on, without a system call: glibc 2.35 and
/// later register a struct rseq for every thread at a fixed offset from its thread pointer
/// (`__rseq_offset`, exported by the dynamic loader), and the kernel writes the thread's CPU
/// into its cpu_id field before the thread returns to user space on another CPU or after a
/// preemption. A running thread's cpu_id is therefore the CPU it is on now.
///
/// Returns the offset of cpu_id from a thread's pthread_t, which on x86-64 is its thread pointer
/// (CPython's PyThreadState.thread_id holds it). nullopt when the target's C library registers
/// no rseq area (older glibc, musl, `glibc.pthread.rseq=0`, a kernel without rseq) or on other
/// architectures, where pthread_t is not the thread pointer.
[[nodiscard]] std::optional<std::int64_t>
rseq_cpu_offset(Pid pid, const RemoteMemory& memory, const std::vector<MemoryMap>& maps);

/// A cpu_id value read from the target: the CPU number, or nullopt for the kernel's "not
/// registered" (-1) and "registration failed" (-2) markers and anything out of range.
[[nodiscard]] std::optional<unsigned> decode_rseq_cpu(std::uint64_t word) noexcept;

} // namespace cpuprof::process
