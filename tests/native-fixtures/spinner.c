/* A small target for the native-layer tests: known function names on a known call chain.
 *
 *   cpuprof_spinner EVENT_FD busy            spin in fixture_outer -> fixture_middle ->
 * fixture_inner cpuprof_spinner EVENT_FD progress        the same, writing '.' to EVENT_FD after
 * each slice of work cpuprof_spinner EVENT_FD threads N       the same, plus N threads blocked in
 * fixture_sleeper cpuprof_spinner EVENT_FD library PATH    dlopen PATH and spin in
 * cpuprof_fixture_library_spin
 *
 * 'R' on EVENT_FD means ready (all threads started); each SIGUSR1 is answered with 'U'. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int event_fd = -1;
static int report_progress = 0;
static volatile unsigned long sink;
static volatile int never = 0;

static void on_usr1(int sig) {
    (void)sig;
    (void)!write(event_fd, "U", 1);
}

__attribute__((noinline)) void fixture_inner(void) {
    while (!never) {
        for (unsigned long i = 0; i < 1000000; ++i) {
            sink += i;
        }
        if (report_progress) {
            (void)!write(event_fd, ".", 1);
        }
    }
}

/* The empty asm after each call keeps it a real call (no tail call), so every function keeps
 * its own frame. */
__attribute__((noinline)) void fixture_middle(void) {
    fixture_inner();
    __asm__ volatile("");
}

__attribute__((noinline)) void fixture_outer(void) {
    fixture_middle();
    __asm__ volatile("");
}

__attribute__((noinline)) void* fixture_sleeper(void* started) {
    (void)!write(*(int*)started, "s", 1);
    for (;;) {
        pause();
    }
    return NULL;
}

static int start_sleepers(int count) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        return -1;
    }
    for (int i = 0; i < count; ++i) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, fixture_sleeper, &pipe_fds[1]) != 0) {
            return -1;
        }
    }
    for (int i = 0; i < count; ++i) {
        char c;
        if (read(pipe_fds[0], &c, 1) != 1) {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s EVENT_FD busy|progress|threads N|library PATH\n", argv[0]);
        return 2;
    }
    event_fd = atoi(argv[1]);
    signal(SIGUSR1, on_usr1);
    const char* mode = argv[2];
    if (strcmp(mode, "progress") == 0) {
        fcntl(event_fd, F_SETFL, fcntl(event_fd, F_GETFL) | O_NONBLOCK);
        report_progress = 1;
    } else if (strcmp(mode, "threads") == 0 && argc > 3) {
        if (start_sleepers(atoi(argv[3])) != 0) {
            perror("threads");
            return 1;
        }
    } else if (strcmp(mode, "library") == 0 && argc > 3) {
        void* library = dlopen(argv[3], RTLD_NOW);
        if (library == NULL) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        void (*spin)(int) = (void (*)(int))dlsym(library, "cpuprof_fixture_library_spin");
        if (spin == NULL) {
            fprintf(stderr, "%s\n", dlerror());
            return 1;
        }
        spin(event_fd);
        return 0;
    } else if (strcmp(mode, "busy") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    (void)!write(event_fd, "R", 1);
    fixture_outer();
    return 0;
}
