// record_untraced_target.cc - the program of tests/check_record_untraced.sh.
// Between two marker allocations (sizes the probe, tests/record_probe.c,
// knows) it makes allocation calls from 121 distinct C++ functions (so the
// recorder names 121+ new code addresses with mangled symbols, which it
// demangles), first on the main thread and then on THREADS new threads
// (each of which makes the recorder build a ring: pthread_getattr_np
// allocates). Every call is the program's own; the check asserts that the
// allocator behind the recorder sees exactly the calls the trace holds.
#include <cstdlib>
#include <thread>
#include <unistd.h>
#include <vector>

enum : size_t { ARM = 7340033, DISARM = 7340035 };

template <int N> __attribute__((noinline)) void *grab(size_t n)
{
    void *p = malloc(n + N);
    asm volatile("" ::"r"(p) : "memory");
    return p;
}

template <int N> __attribute__((noinline)) void chain(void **slots)
{
    slots[N] = grab<N>(16);
    slots[N] = realloc(slots[N], 64 + N);
    chain<N - 1>(slots);
}

template <> __attribute__((noinline)) void chain<0>(void **slots)
{
    slots[0] = calloc(4, 8);
}

static void worker()
{
    void *slots[121];
    for (int r = 0; r < 3; r++) {
        chain<120>(slots);
        for (void *p : slots) free(p);
    }
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    void *volatile arm = malloc(ARM); // volatile: the pair is not elided
    free(arm);
    worker();
    std::vector<std::thread> ts;
    ts.reserve(threads);
    for (int i = 0; i < threads; i++) ts.emplace_back(worker);
    for (auto &t : ts) t.join();
    // give the symbolizer thread time to name the new addresses inside the
    // window (the inline run names them synchronously; a pass never
    // depends on this wait)
    usleep(300000);
    void *volatile disarm = malloc(DISARM);
    free(disarm);
    return 0;
}
