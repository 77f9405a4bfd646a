#include "cpuprof/sampling/target.hpp"

#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/rseq.hpp"

#include <thread>

namespace cpuprof::sampling {

Target::Target(Pid pid, std::unique_ptr<python::StackReader> reader)
    : pid_(pid)
    , memory_(pid)
    , reader_(std::move(reader))
    , stats_(pid) {}

std::unique_ptr<Target> Target::attach(Pid pid, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        process::check_target(pid);
        try {
            // The reader keeps a reference to the memory it reads: the Target's own.
            std::unique_ptr<Target> target(new Target(pid, nullptr));
            const auto maps = process::read_maps(pid);
            auto interpreter = python::locate_interpreter(pid, target->memory_, maps);
            target->reader_ =
                std::make_unique<python::StackReader>(target->memory_, std::move(interpreter));
            if (auto offset = process::rseq_cpu_offset(pid, target->memory_, maps)) {
                target->reader_->watch_thread_word(*offset);
                target->knows_cpus_ = true;
            }
            target->refresh_threads();
            return target;
        } catch (const PermissionError&) {
            throw;
        } catch (const UnsupportedVersionError&) {
            throw;
        } catch (const TargetError&) {
            if (std::chrono::steady_clock::now() >= deadline) {
                throw;
            }
        } catch (const RemoteReadError&) {
            if (std::chrono::steady_clock::now() >= deadline) {
                throw;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

bool Target::refresh_threads() {
    os_tids_ = process::list_threads(pid_);
    return reader_->refresh_threads(os_tids_);
}

std::optional<unsigned> Target::thread_cpu(const python::ThreadState& state) const {
    const auto word = reader_->thread_word(state);
    return word ? process::decode_rseq_cpu(*word) : std::nullopt;
}

void Target::forget_thread(Tid tid) {
    stats_.forget(tid);
    names_.erase(tid);
}

const std::string& Target::thread_name(Tid tid) {
    auto it = names_.find(tid);
    if (it == names_.end()) {
        it = names_.emplace(tid, process::thread_comm(pid_, tid)).first;
    }
    return it->second;
}

bool Target::alive() const {
    auto stat = process::read_process_stat(pid_);
    return stat && stat->state != 'Z' && stat->state != 'X';
}

} // namespace cpuprof::sampling
