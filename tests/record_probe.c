/* record_probe.c - a malloc interposer for tests/check_record_untraced.sh,
 * run behind the recorder (LD_PRELOAD=probe.so allocsim record ...; the
 * recorder puts itself in front). It counts the calls that reach it --
 * the allocator behind the recorder sees exactly these -- between two
 * markers the program makes: malloc(PROBE_ARM) starts the count,
 * malloc(PROBE_DISARM) ends it and writes "allocs N reallocs N frees N"
 * to the file named by RECORD_PROBE_OUT. The markers themselves are not
 * counted. Everything is forwarded to glibc's __libc_* entry points, so
 * the probe needs no dlsym and allocates nothing itself. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ARM 7340033u
#define PROBE_DISARM 7340035u

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static atomic_int armed;
static atomic_ulong n_allocs, n_reallocs, n_frees;

static void count(atomic_ulong *c)
{
    if (atomic_load(&armed)) atomic_fetch_add(c, 1);
}

static void report(void)
{
    const char *path = getenv("RECORD_PROBE_OUT");
    if (!path) return;
    char line[128];
    int n = snprintf(line, sizeof line, "allocs %lu reallocs %lu frees %lu\n",
                     atomic_load(&n_allocs), atomic_load(&n_reallocs),
                     atomic_load(&n_frees));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    if (write(fd, line, (size_t)n) != n) abort();
    close(fd);
}

void *malloc(size_t n)
{
    if (n == PROBE_ARM) {
        atomic_store(&armed, 1);
    } else if (n == PROBE_DISARM) {
        if (atomic_exchange(&armed, 0)) report();
    } else {
        count(&n_allocs);
    }
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    count(&n_allocs);
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    count(&n_reallocs);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p) count(&n_frees);
    __libc_free(p);
}

void *memalign(size_t a, size_t n)
{
    count(&n_allocs);
    return __libc_memalign(a, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    count(&n_allocs);
    return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
    if (a % sizeof(void *) || (a & (a - 1))) return EINVAL;
    count(&n_allocs);
    void *p = __libc_memalign(a, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    count(&n_allocs);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}
