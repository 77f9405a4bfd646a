#include "cpuprof/sampling/priority.hpp"

#include <cstring>
#include <pthread.h>
#include <sched.h>

namespace cpuprof::sampling {

std::optional<std::string> raise_sampling_priority() {
    sched_param param{};
    param.sched_priority = sched_get_priority_min(SCHED_FIFO);
    const int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (error != 0) {
        return std::string(std::strerror(error));
    }
    return std::nullopt;
}

void lower_sampling_priority() {
    sched_param param{};
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
}

} // namespace cpuprof::sampling
