/* A shared library the spinner dlopens. It is linked stripped: the exported entry point is named
 * only by .dynsym and the static function it spins in has no name at all, as in distribution
 * libraries. Tests also place it where only the target can see it (another mount namespace). */
#include <unistd.h>

static volatile unsigned long sink;
static volatile int never = 0;

__attribute__((noinline)) static void library_inner(void) {
    while (!never) {
        ++sink;
    }
}

void cpuprof_fixture_library_spin(int event_fd) {
    (void)!write(event_fd, "R", 1);
    library_inner();
    __asm__ volatile("");
}
