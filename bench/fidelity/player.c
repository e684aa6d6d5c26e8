/* player.c - fidelity_player: make a trace's allocation calls, in order,
 * in a real process (bench/fidelity, tests/check_malloc_sim_placement.sh).
 *
 *   fidelity_player TRACE.txt
 *
 * TRACE.txt is the text form of a trace (`allocsim cat`). Each `a` line
 * becomes malloc(SIZE), or posix_memalign(ALIGN, SIZE) when ALIGN is above
 * 16; each `r` line realloc(OLD's block, SIZE); each `f` line free(ID's
 * block); every other line (meta, frame, stack, samples, write reports) is
 * skipped. The calls are made from one thread in the order of the file,
 * whatever thread the trace names. Run under LD_PRELOAD of
 * liballocsim_malloc.so, the policy behind it sees exactly the requests
 * `allocsim run --realloc preload` replays from the same trace, so the
 * policy's own counters of the two can be compared (a difference is a
 * difference between the real allocator and the simulator, not between
 * two programs).
 *
 * The player allocates nothing itself: the file is read with mmap, the
 * table object id -> block is one anonymous mapping sized by a first pass
 * over the file (the largest id) and made before the first call, and
 * messages go out with write(2), so no stdio buffer reaches the allocator
 * under test. It never writes the blocks it gets (the allocator's placement
 * is what is compared, not the resident memory).
 *
 * Bad input never crashes it: a malformed line, an id above 2^28, an `a`
 * for a live id, or an `r`/`f` for an id that is not live prints
 * `fidelity_player: FILE: line N: what` and exits 2; a failed allocation
 * prints the line and exits 1.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/msg.h"

#define MAX_ID ((uint64_t)1 << 28)

static const char *g_path;

/* Print `fidelity_player: FILE: line N: what` (no file when g_path is
 * NULL, no line when line is 0) and exit with rc. One write(2) of a
 * message built without stdio (common/msg.h). */
static _Noreturn void fail_at(uint64_t line, const char *what, int rc)
{
    char buf[512];
    as_msg_t m;
    as_msg_init(&m, buf, sizeof buf);
    as_msg_str(&m, "fidelity_player: ");
    if (g_path) {
        as_msg_str(&m, g_path);
        as_msg_str(&m, ": ");
    }
    if (line) {
        as_msg_str(&m, "line ");
        as_msg_u64(&m, line, 0);
        as_msg_str(&m, ": ");
    }
    as_msg_str(&m, what);
    as_msg_str(&m, "\n");
    ssize_t w = write(2, buf, m.len);
    (void)w; /* nothing more to say when stderr is gone */
    exit(rc);
}

/* Read one space-separated decimal field at *p (before end), moving past
 * it. @return 0, or -1 when there is no number there or it overflows. */
static int field_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    while (s < end && *s == ' ')
        s++;
    if (s == end || *s < '0' || *s > '9') return -1;
    uint64_t v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
        s++;
    }
    if (s < end && *s != ' ') return -1;
    *out = v;
    *p = s;
    return 0;
}

/* One event line: kind 'a', 'r' or 'f' and its fields. */
typedef struct {
    char kind;
    uint64_t id, new_id, size_bytes, align_bytes;
} event_t;

/* Parse [s, end) as an event line. @return 1 with *ev filled, 0 for a line
 * that is no event; exits 2 (naming the line) for a malformed event. */
static int parse_line(const char *s, const char *end, uint64_t line,
                      event_t *ev)
{
    if (end - s < 2 || s[1] != ' ' ||
        (s[0] != 'a' && s[0] != 'r' && s[0] != 'f'))
        return 0;
    ev->kind = s[0];
    const char *p = s + 1;
    uint64_t skip;
    for (int i = 0; i < 3; i++) /* time, thread, cpu */
        if (field_u64(&p, end, &skip))
            fail_at(line, "malformed event line (time, thread, cpu)", 2);
    int bad = field_u64(&p, end, &ev->id);
    if (ev->kind == 'r') bad = bad || field_u64(&p, end, &ev->new_id);
    if (ev->kind != 'f')
        bad = bad || field_u64(&p, end, &ev->size_bytes) ||
              field_u64(&p, end, &ev->align_bytes);
    if (bad) fail_at(line, "malformed event line (ids, size, align)", 2);
    if (ev->id >= MAX_ID || (ev->kind == 'r' && ev->new_id >= MAX_ID))
        fail_at(line, "object id above 2^28", 2);
    if (ev->kind == 'a' && ev->align_bytes > 16 &&
        (ev->align_bytes & (ev->align_bytes - 1)))
        fail_at(line, "alignment is not a power of two", 2);
    return 1;
}

/* Call parse_line on every line of [s, end); with `blocks` NULL only
 * validate and return the largest id + 1, else make the calls. */
static uint64_t pass(const char *s, const char *end, void **blocks)
{
    uint64_t line = 0, n_ids = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        event_t ev = {0};
        line++;
        if (parse_line(s, e, line, &ev)) {
            uint64_t top =
                ev.kind == 'r' && ev.new_id > ev.id ? ev.new_id : ev.id;
            if (top + 1 > n_ids) n_ids = top + 1;
            if (blocks && ev.kind == 'a') {
                if (blocks[ev.id])
                    fail_at(line, "allocation of an object that is live", 2);
                void *q = NULL;
                if (ev.align_bytes > 16) {
                    if (posix_memalign(&q, ev.align_bytes, ev.size_bytes))
                        q = NULL;
                } else {
                    q = malloc(ev.size_bytes);
                }
                if (!q) fail_at(line, "allocation failed", 1);
                blocks[ev.id] = q;
            } else if (blocks && ev.kind == 'r') {
                if (!blocks[ev.id])
                    fail_at(line, "realloc of an object that is not live", 2);
                void *q = realloc(blocks[ev.id], ev.size_bytes);
                if (!q && ev.size_bytes) fail_at(line, "realloc failed", 1);
                blocks[ev.id] = NULL;
                if (q && blocks[ev.new_id])
                    fail_at(line, "realloc to an object that is live", 2);
                blocks[ev.new_id] = q;
            } else if (blocks) {
                if (!blocks[ev.id])
                    fail_at(line, "free of an object that is not live", 2);
                free(blocks[ev.id]);
                blocks[ev.id] = NULL;
            }
        }
        s = nl ? nl + 1 : end;
    }
    return n_ids;
}

int main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-')
        fail_at(0,
                "usage: fidelity_player TRACE.txt (the text of `allocsim "
                "cat`)",
                2);
    g_path = argv[1];
    int fd = open(g_path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) fail_at(0, "cannot open", 2);
    const char *text = "";
    size_t len = (size_t)st.st_size;
    if (len) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) fail_at(0, "cannot map", 1);
        text = m;
    }
    close(fd);
    uint64_t n_ids = pass(text, text + len, NULL);
    if (n_ids) {
        void **blocks =
            mmap(NULL, (size_t)n_ids * sizeof *blocks, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (blocks == MAP_FAILED)
            fail_at(0, "no memory for the object table", 1);
        pass(text, text + len, blocks);
    }
    return 0;
}
