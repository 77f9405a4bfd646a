#include "cpuprof/process/thread_files.hpp"

#include <unistd.h>

namespace cpuprof::process {

ThreadFiles::~ThreadFiles() {
    for (auto& [tid, fd] : fds_) {
        ::close(fd);
    }
}

int ThreadFiles::find(Tid tid) const {
    auto it = fds_.find(tid);
    return it == fds_.end() ? -1 : it->second;
}

void ThreadFiles::close(Tid tid) {
    if (auto it = fds_.find(tid); it != fds_.end()) {
        ::close(it->second);
        fds_.erase(it);
    }
}

} // namespace cpuprof::process
