/* cmd_record.c - `allocsim record`: run a program under the recorder.
 *
 * Runs CMD with liballocsim_record.so preloaded and one end of a socket pair
 * inherited (ALLOCSIM_RECORD_FD); reads the recorder's records from the other
 * end and writes the trace as they come (traces/import/recstream.c), chunk by
 * chunk, into a temporary beside the output that is renamed onto it at the
 * end (traces/outfile.c): -o is never truncated or removed unless a trace
 * replaces it. Because the trace is written by this process, a recorded
 * program that dies by any signal, calls _exit or execs still leaves a
 * complete trace of everything it shipped; if this process itself is
 * killed, every whole chunk already written stays readable in the
 * temporary. What cannot be recorded is refused before anything runs
 * (check_command) or reported after (the recorder never started, a cut-off
 * stream, an exec into an image it could not enter).
 *
 * It forwards SIGINT/SIGTERM/SIGHUP to the program and keeps collecting until
 * the program's end of the socket closes. Exit status: the program's (128+N
 * when it died by signal N), 1 when the trace could not be written or the
 * recording is incomplete (docs/recording.md), 2 on bad usage.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "traces/hostthp.h"
#include "traces/import/recstream.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0) kill((pid_t)child_pid, sig);
}

enum {
    OPT_OUTPUT = 1,
    OPT_SAMPLE_BYTES,
    OPT_MAX_DEPTH,
    OPT_TIME_RESOLUTION,
    OPT_STACK_CACHE,
    OPT_FOLLOW_FORKS,
    OPT_UNWIND,
    OPT_PRELOAD,
    OPT_MEM_INTERVAL,
    OPT_MALLINFO_INTERVAL,
    OPT_WRITES,
    OPT_WRITES_MIN,
    OPT_WRITES_INTERVAL,
    OPT_QUIET
};

static const as_opt_t record_opts[] = {
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "TRACE",
                    "output trace (default: trace.ast)"),
    AS_OPT_ROW_NUM(OPT_SAMPLE_BYTES, "sample-bytes", 0, AS_PARAM_BYTES, 0,
                   1099511627776.0, "N",
                   "record one allocation per N bytes on average\n"
                   "(byte-weighted, like TCMalloc), e.g. 512K;\n"
                   "0 = all (default)"),
    AS_OPT_ROW_NUM(OPT_MAX_DEPTH, "max-depth", 0, AS_PARAM_U64, 0, 128, "D",
                   "stack frames kept, 0..128 (default 32)"),
    AS_OPT_ROW_NUM(OPT_TIME_RESOLUTION, "time-resolution", 0, AS_PARAM_NS, 1,
                   3.6e12, "T",
                   "round times down to multiples of T, e.g. 1us\n"
                   "(default 1ns: exact); coarser times make smaller\n"
                   "traces"),
    AS_OPT_ROW_FLAG(OPT_STACK_CACHE, "stack-cache", 0,
                    "reuse the stack of an earlier call from the same\n"
                    "return address at the same stack height (LLAMA's\n"
                    "approximation; much faster, may mislabel)"),
    AS_OPT_ROW_FLAG(OPT_FOLLOW_FORKS, "follow-forks", 0,
                    "record child processes too (fork, vfork + exec,\n"
                    "posix_spawn), each into TRACE.forkN.ast (allocsim\n"
                    "record then waits for all of them)"),
    AS_OPT_ROW_CHOICE(OPT_UNWIND, "unwind", 0, "auto|fp|libunwind", "MODE",
                      "auto: frame pointers, libunwind when the chain is\n"
                      "broken (default); fp; libunwind"),
    AS_OPT_ROW_NUM(OPT_MEM_INTERVAL, "mem-interval", 0, AS_PARAM_NS, 0, 3.6e12,
                   "T",
                   "sample the program's real memory (RSS and\n"
                   "AnonHugePages, /proc/self/smaps_rollup) every T\n"
                   "(default 10ms; 0 = never)"),
    AS_OPT_ROW_NUM(OPT_MALLINFO_INTERVAL, "mallinfo-interval", 0, AS_PARAM_NS,
                   0, 3.6e12, "T",
                   "ask glibc's malloc for mallinfo2() every T and\n"
                   "store its figures with the samples (default 0 =\n"
                   "never)"),
    AS_OPT_ROW_CHOICE(OPT_WRITES, "writes", 0, "on|off", "on|off",
                      "report which pages of large objects the program\n"
                      "wrote (/proc/self/pagemap), so a replay touches\n"
                      "only those (default on)"),
    AS_OPT_ROW_NUM(OPT_WRITES_MIN, "writes-min", 0, AS_PARAM_BYTES, 1,
                   1099511627776.0, "BYTES",
                   "objects of at least BYTES get write reports\n"
                   "(default 8K); smaller ones count as written whole\n"
                   "when allocated"),
    AS_OPT_ROW_NUM(OPT_WRITES_INTERVAL, "writes-interval", 0, AS_PARAM_NS, 0,
                   3.6e12, "T",
                   "also scan the live large objects every T, within\n"
                   "5% of the program's CPU time (default 10ms; 0 =\n"
                   "only at free, realloc, calloc and exit)"),
    AS_OPT_ROW_TEXT(OPT_PRELOAD, "preload", 0, "LIB",
                    "the recorder library (default: found beside\n"
                    "allocsim or in $ALLOCSIM_RECORD_LIB)"),
    AS_OPT_ROW_FLAG(OPT_QUIET, "quiet", 'q',
                    "no progress and no closing summary line"),
    {0},
};

const as_opt_t *const as_cmd_record_opts[] = {record_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim record [options] [--] CMD [ARGS...]\n\n"
               "Run CMD and record every malloc/calloc/realloc/reallocarray/"
               "free/\nposix_memalign/aligned_alloc/memalign/valloc/pvalloc "
               "call (C++ new/delete\ngo through them) with time, thread, CPU, "
               "alignment and stack. Options\nend at CMD (or at `--`).\n");
    as_opts_help(f, as_cmd_record_opts);
    fprintf(f, "\nChild processes are not recorded unless --follow-forks; an "
               "exec'd image of\nCMD itself is (objects of the old image are "
               "freed at the exec). TRACE is replaced only when a\ntrace was "
               "recorded; -o "
               "naming the program or one of its arguments is refused.\n"
               "Exit status: CMD's, 128+N if it died by signal N; 1 if the "
               "trace failed,\nthe recorder never started in CMD, or the "
               "recording was cut off; 2 on bad\nusage. See "
               "docs/recording.md.\n");
}

/* find_preload: the recorder library, first found of
 *   1. $ALLOCSIM_RECORD_LIB (when set and not empty: that file or nothing),
 *   2. <dir of this executable>/../lib/allocsim/ (an installed tree),
 *   3. <dir>/traces/record/ (the build tree),
 *   4. <dir>/ (both files copied side by side),
 *   5. the configured install path (a copy of an installed binary).
 * The executable's directory comes from /proc/self/exe, so symlinks to the
 * binary and any working directory work. docs/install.md documents this.
 * @return 1 with the path in out, or 0 when there is none. */
static int find_preload(char *out, size_t cap)
{
    const char *env = getenv("ALLOCSIM_RECORD_LIB");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return access(out, R_OK) == 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = 0;
        static const char *const rel[] = {
            "../lib/allocsim/liballocsim_record.so",
            "traces/record/liballocsim_record.so", "liballocsim_record.so"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            int k = snprintf(out, cap, "%s/%s", exe, rel[i]);
            if (k > 0 && (size_t)k < cap && access(out, R_OK) == 0) return 1;
        }
    }
#ifdef ALLOCSIM_RECORD_LIB_INSTALLED
    snprintf(out, cap, "%s", ALLOCSIM_RECORD_LIB_INSTALLED);
    if (access(out, R_OK) == 0) return 1;
#endif
    return 0;
}

static void join_args(char *out, size_t cap, char **argv)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; argv[i] && used + 1 < cap; i++) {
        int k = snprintf(out + used, cap - used, "%s%s", i ? " " : "", argv[i]);
        if (k < 0) break;
        used += (size_t)k;
    }
}

/* find_program: the file execvp would run for `name` (searched in $PATH
 * when it has no slash). @return 1 and the path in out, or 0. */
static int find_program(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, F_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    for (const char *p = path;; p++) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int k = n ? snprintf(out, cap, "%.*s/%s", (int)n, p, name)
                  : snprintf(out, cap, "%s", name);
        struct stat st;
        if (k > 0 && (size_t)k < cap && stat(out, &st) == 0 &&
            S_ISREG(st.st_mode) && access(out, X_OK) == 0)
            return 1;
        if (!e) return 0;
        p = e;
    }
}

/* What an ELF file is, for LD_PRELOAD's purposes. */
enum {
    ELF_NOT = 0,    /* not ELF, or unreadable (a script: its interpreter
                         is what runs) */
    ELF_IS = 1,     /* an ELF file */
    ELF_INTERP = 2, /* has a program interpreter: dynamically linked */
    ELF_SHARED = 4, /* ET_DYN: a shared object (or a PIE) */
    ELF_FOREIGN = 8 /* another class than ours: the loader will judge */
};

/* elf_kind: ELF_* flags of the file at `path`. A program without
 * ELF_INTERP is statically linked (static-pie included); a preload library
 * must be ELF_SHARED. */
static int elf_kind(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 'n';
    Elf64_Ehdr eh;
    int kind = ELF_NOT;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 4096) {
        int interp = 0;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph,
                      (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) !=
                (ssize_t)sizeof ph)
                break;
            interp |= ph.p_type == PT_INTERP;
        }
        kind = ELF_IS | (interp ? ELF_INTERP : 0) |
               (eh.e_type == ET_DYN ? ELF_SHARED : 0);
    } else if (memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0) {
        kind = ELF_IS | ELF_FOREIGN;
    }
    close(fd);
    return kind;
}

/* check_command: refuse, before anything is run or written, what cannot be
 * recorded or would destroy an input: a statically linked program, a
 * preload library that is not one, and an output that is the program, the
 * library or a file named by an argument. @return 0, or an exit code. */
static int check_command(const char *out_path, char **cmd, const char *lib)
{
    char prog[PATH_MAX], err[8400];
    int found = find_program(cmd[0], prog, sizeof prog);
    int k = elf_kind(lib);
    if (!(k & ELF_FOREIGN) && !(k & ELF_SHARED)) {
        fprintf(stderr,
                "allocsim record: %s: not a shared library (ELF shared "
                "object); LD_PRELOAD could not load it\n",
                lib);
        return AS_EXIT_USAGE;
    }
    k = found ? elf_kind(prog) : ELF_NOT;
    if ((k & ELF_IS) && !(k & (ELF_INTERP | ELF_FOREIGN))) {
        fprintf(stderr,
                "allocsim record: %s: statically linked: LD_PRELOAD cannot "
                "record it (relink it dynamically)\n",
                prog);
        return AS_EXIT_USAGE;
    }
    int bad =
        (found && as_outfile_check_input(out_path, prog, err, sizeof err)) ||
        as_outfile_check_input(out_path, lib, err, sizeof err);
    for (int i = 1; cmd[i] && !bad; i++)
        bad = as_outfile_check_input(out_path, cmd[i], err, sizeof err);
    if (bad) {
        fprintf(stderr, "allocsim record: -o %s\n", err);
        return AS_EXIT_USAGE;
    }
    return 0;
}

/* One followed process (--follow-forks): its connection, collector and
 * trace. */
typedef struct {
    int fd; /* connection from the process, -1 when closed */
    as_recstream_t *rs;
    as_trace_writer_t *w;
    int bad; /* collecting failed: drain and discard */
    char path[PATH_MAX];
} fork_conn_t;

#define MAX_FORKS 256

/* fork_path: TRACE.ast -> TRACE.forkN.ast (or TRACE.forkN). */
static void fork_path(char *out, size_t cap, const char *base, int n)
{
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".ast") == 0)
        snprintf(out, cap, "%.*s.fork%d.ast", (int)(len - 4), base, n);
    else
        snprintf(out, cap, "%s.fork%d", base, n);
}

/* fork_open: a trace for a newly connected followed process. */
static int fork_open(fork_conn_t *c, int fd, const char *base, int n,
                     const char *(*meta)[2], size_t nmeta, uint64_t resolution)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    fork_path(c->path, sizeof c->path, base, n);
    int rc = as_trace_writer_open(&c->w, c->path, NULL);
    for (size_t k = 0; k < nmeta && !rc; k++)
        rc = as_trace_writer_meta(c->w, meta[k][0], meta[k][1]);
    if (!rc) rc = as_trace_writer_meta(c->w, "forked", "yes");
    if (!rc) rc = as_recstream_open(&c->rs, c->w);
    if (!rc) as_recstream_set_resolution(c->rs, resolution);
    if (rc) {
        fprintf(stderr, "allocsim record: %s\n",
                c->w ? as_trace_writer_error(c->w) : as_strerror(rc));
        c->bad = 1;
    }
    return rc;
}

/* fork_close: end of a followed process's stream: finish its trace. */
static int fork_close(fork_conn_t *c)
{
    int bad = c->bad;
    as_recstream_stats_t st = {0};
    if (!bad && as_recstream_finish(c->rs, &st)) {
        fprintf(stderr, "allocsim record: %s\n", as_recstream_error(c->rs));
        bad = 1;
    }
    if (c->rs) as_recstream_free(c->rs);
    if (c->w) {
        char cerr[1024];
        if (bad)
            as_trace_writer_abort(c->w);
        else if (as_trace_writer_close_err(c->w, cerr, sizeof cerr)) {
            fprintf(stderr, "allocsim record: %s\n", cerr);
            bad = 1;
        }
        c->w = NULL;
    }
    if (!bad)
        fprintf(stderr,
                "allocsim record: forked process: %" PRIu64 " events -> %s\n",
                st.events, c->path);
    close(c->fd);
    c->fd = -1;
    return bad;
}

int as_cmd_record(int argc, char **argv)
{
    const char *out_path = "trace.ast", *unwind = "auto";
    uint64_t sample_bytes = 0, max_depth = 32, resolution = 1;
    uint64_t mem_ns = 10000000, mallinfo_ns = 0;
    uint64_t writes_min = 8192, writes_ns = 10000000;
    int writes = 1;
    int stack_cache = 0, follow = 0, quiet = 0, got;
    char preload[PATH_MAX] = "";
    static const char *const unwind_modes[] = {"auto", "fp", "libunwind"};
    as_opts_t p;
    as_opts_init(&p, "record", as_cmd_record_opts, argc, argv);
    p.stop_at_arg = 1; /* CMD's own options are CMD's */
    while ((got = as_opts_next(&p)) != AS_OPT_END && got != AS_OPT_ARG) {
        switch (got) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_OUTPUT:
            out_path = p.text;
            break;
        case OPT_SAMPLE_BYTES:
            sample_bytes = p.value.u;
            break;
        case OPT_MAX_DEPTH:
            max_depth = p.value.u;
            break;
        case OPT_TIME_RESOLUTION:
            resolution = p.value.u;
            break;
        case OPT_STACK_CACHE:
            stack_cache = 1;
            break;
        case OPT_FOLLOW_FORKS:
            follow = 1;
            break;
        case OPT_UNWIND:
            unwind = unwind_modes[p.value.u];
            break;
        case OPT_PRELOAD:
            snprintf(preload, sizeof preload, "%s", p.text);
            break;
        case OPT_MEM_INTERVAL:
            mem_ns = p.value.u;
            break;
        case OPT_MALLINFO_INTERVAL:
            mallinfo_ns = p.value.u;
            break;
        case OPT_WRITES:
            writes = p.value.u == 0;
            break;
        case OPT_WRITES_MIN:
            writes_min = p.value.u;
            break;
        case OPT_WRITES_INTERVAL:
            writes_ns = p.value.u;
            break;
        case OPT_QUIET:
            quiet = 1;
            break;
        }
    }
    if (got != AS_OPT_ARG) {
        as_cli_err("no command to run (allocsim record [options] [--] CMD "
                   "ARGS...)");
        return AS_EXIT_USAGE;
    }
    if (as_cli_is_stdio(out_path)) {
        as_cli_err("-o -: not for record (the program's own output goes to "
                   "standard output); name a file");
        return AS_EXIT_USAGE;
    }
    int i = p.next - 1;
    char **cmd = argv + i;
    if (!preload[0] && !find_preload(preload, sizeof preload)) {
        fprintf(stderr, "allocsim record: liballocsim_record.so not found "
                        "(build with ALLOCSIM_RECORDER=ON, or set "
                        "ALLOCSIM_RECORD_LIB or --preload)\n");
        return AS_EXIT_FAIL;
    }
    if (access(preload, R_OK) != 0) {
        fprintf(stderr, "allocsim record: %s: %s\n", preload, strerror(errno));
        return AS_EXIT_USAGE;
    }
    char preload_abs[PATH_MAX];
    if (!realpath(preload, preload_abs))
        snprintf(preload_abs, sizeof preload_abs, "%s", preload);

    int rc = check_command(out_path, cmd, preload_abs);
    if (rc) return rc;
    /* the trace goes to a temporary beside -o, renamed onto it at the end:
     * nothing is replaced unless a trace was recorded */
    as_trace_writer_t *w = NULL;
    rc = as_trace_writer_open(&w, out_path, NULL);
    if (rc) {
        fprintf(stderr, "allocsim record: %s\n",
                w ? as_trace_writer_error(w) : as_strerror(rc));
        as_trace_writer_abort(w);
        return rc == AS_EINVAL ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    char buf[4096], host[256] = "";
    gethostname(host, sizeof host - 1);
    join_args(buf, sizeof buf, cmd);
    char sampling[64], depth[32], page[32], resol[32], memv[64], miv[64];
    char thp[AS_THP_N][AS_THP_VALUE_MAX];
    as_host_thp_read(AS_THP_DIR, thp);
    if (mem_ns)
        snprintf(memv, sizeof memv,
                 "every %" PRIu64 " ns (smaps_rollup, else statm)", mem_ns);
    else
        snprintf(memv, sizeof memv, "none");
    if (mallinfo_ns)
        snprintf(miv, sizeof miv, "every %" PRIu64 " ns (glibc mallinfo2)",
                 mallinfo_ns);
    else
        snprintf(miv, sizeof miv, "none");
    if (sample_bytes)
        snprintf(sampling, sizeof sampling, "bytes:%" PRIu64, sample_bytes);
    else
        snprintf(sampling, sizeof sampling, "none");
    snprintf(depth, sizeof depth, "%" PRIu64, max_depth);
    snprintf(resol, sizeof resol, "%" PRIu64, resolution);
    snprintf(page, sizeof page, "%ld", sysconf(_SC_PAGESIZE));
    const char *meta[][2] = {
        {"program", cmd[0]},
        {"arguments", buf},
        {"host", host},
        {"clock", "CLOCK_MONOTONIC"},
        {"page_size", page},
        {"recorder", "allocsim-record " ALLOCSIM_VERSION},
        {"sampling", sampling},
        {"max_depth", depth},
        {"clock_resolution_ns", resol},
        {"stack_cache", stack_cache ? "ra+height" : "none"},
        {"stack_height", "bytes from the thread's stack top to malloc's frame"},
        {"mem_sampling", memv},
        {"mallinfo_sampling", miv},
        {as_thp_meta_key[0], thp[0]},
        {as_thp_meta_key[1], thp[1]},
        {as_thp_meta_key[2], thp[2]},
        {as_thp_meta_key[3], thp[3]},
        {as_thp_meta_key[4], thp[4]}};
    for (size_t k = 0; k < sizeof meta / sizeof meta[0] && !rc; k++)
        rc = as_trace_writer_meta(w, meta[k][0], meta[k][1]);

    int sv[2];
    if (rc || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        fprintf(stderr, "allocsim record: %s\n",
                rc ? as_trace_writer_error(w) : strerror(errno));
        as_trace_writer_abort(w);
        return AS_EXIT_FAIL;
    }
    /* --follow-forks: forked children connect here (abstract socket) */
    int listen_fd = -1;
    char listen_name[64] = "";
    if (follow) {
        snprintf(listen_name, sizeof listen_name, "allocsim-record-%ld-%ld",
                 (long)getpid(), (long)time(NULL));
        struct sockaddr_un sa_un;
        memset(&sa_un, 0, sizeof sa_un);
        sa_un.sun_family = AF_UNIX;
        memcpy(sa_un.sun_path + 1, listen_name, strlen(listen_name));
        socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                   strlen(listen_name));
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa_un, sl) ||
            listen(listen_fd, 64)) {
            perror("allocsim record: --follow-forks socket");
            return AS_EXIT_FAIL;
        }
    }
    int errpipe[2]; /* child reports a failed exec here */
    if (pipe2(errpipe, O_CLOEXEC) != 0) {
        perror("allocsim record: pipe");
        return AS_EXIT_FAIL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("allocsim record: fork");
        return AS_EXIT_FAIL;
    }
    if (pid == 0) {
        char v[64];
        close(sv[0]);
        close(errpipe[0]);
        fcntl(sv[1], F_SETFD, 0); /* inherited across exec */
        const char *old = getenv("LD_PRELOAD");
        static char lp[PATH_MAX * 2];
        snprintf(lp, sizeof lp, "%s%s%s", preload_abs, old && *old ? ":" : "",
                 old && *old ? old : "");
        setenv("LD_PRELOAD", lp, 1);
        snprintf(v, sizeof v, "%d", sv[1]);
        setenv("ALLOCSIM_RECORD_FD", v, 1);
        snprintf(v, sizeof v, "%ld", (long)getppid());
        setenv("ALLOCSIM_RECORD_COLLECTOR", v, 1);
        snprintf(v, sizeof v, "%ld", (long)getpid());
        setenv("ALLOCSIM_RECORD_PID", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, max_depth);
        setenv("ALLOCSIM_RECORD_DEPTH", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, sample_bytes);
        setenv("ALLOCSIM_RECORD_SAMPLE_BYTES", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, mem_ns);
        setenv("ALLOCSIM_RECORD_MEM_NS", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, mallinfo_ns);
        setenv("ALLOCSIM_RECORD_MALLINFO_NS", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, writes ? writes_min : 0);
        setenv("ALLOCSIM_RECORD_WRITES_MIN", v, 1);
        snprintf(v, sizeof v, "%" PRIu64, writes_ns);
        setenv("ALLOCSIM_RECORD_WRITES_NS", v, 1);
        setenv("ALLOCSIM_RECORD_UNWIND", unwind, 1);
        setenv("ALLOCSIM_RECORD_STACK_CACHE", stack_cache ? "1" : "0", 1);
        if (follow)
            setenv("ALLOCSIM_RECORD_LISTEN", listen_name, 1);
        else
            unsetenv("ALLOCSIM_RECORD_LISTEN");
        execvp(cmd[0], cmd);
        int e = errno;
        if (write(errpipe[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(sv[1]);
    close(errpipe[1]);
    child_pid = pid;
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);

    int exec_errno = 0;
    ssize_t en;
    while ((en = read(errpipe[0], &exec_errno, sizeof exec_errno)) < 0 &&
           errno == EINTR) {
    }
    close(errpipe[0]);
    if (en == (ssize_t)sizeof exec_errno) {
        fprintf(stderr, "allocsim record: %s: %s\n", cmd[0],
                strerror(exec_errno));
        waitpid(pid, NULL, 0);
        close(sv[0]);
        as_trace_writer_abort(w); /* -o is left as it was */
        return 127;
    }

    as_recstream_t *rs = NULL;
    rc = as_recstream_open(&rs, w);
    if (!rc) as_recstream_set_resolution(rs, resolution);
    static char rbuf[1 << 20];
    int bad = rc != 0, progress = !quiet && as_cli_progress_on();
    time_t shown = time(NULL);
    static fork_conn_t forks[MAX_FORKS];
    int nforks = 0, forks_open = 0, primary_open = 1;
    while (primary_open || forks_open) {
        struct pollfd pf[2 + MAX_FORKS];
        int np = 0, who[2 + MAX_FORKS]; /* -1 primary, -2 listener, i fork */
        if (primary_open)
            pf[np] = (struct pollfd){sv[0], POLLIN, 0}, who[np++] = -1;
        if (listen_fd >= 0)
            pf[np] = (struct pollfd){listen_fd, POLLIN, 0}, who[np++] = -2;
        for (int k = 0; k < nforks; k++)
            if (forks[k].fd >= 0)
                pf[np] = (struct pollfd){forks[k].fd, POLLIN, 0}, who[np++] = k;
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            perror("allocsim record: poll");
            bad = 1;
            break;
        }
        for (int k = 0; k < np; k++) {
            if (!pf[k].revents) continue;
            if (who[k] == -2) {
                int cfd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (cfd < 0) continue;
                if (nforks == MAX_FORKS) { /* too many: not followed */
                    close(cfd);
                    continue;
                }
                fork_open(&forks[nforks], cfd, out_path, nforks + 1, meta,
                          sizeof meta / sizeof meta[0], resolution);
                nforks++, forks_open++;
                continue;
            }
            int fd = who[k] == -1 ? sv[0] : forks[who[k]].fd;
            ssize_t n = read(fd, rbuf, sizeof rbuf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                if (who[k] == -1)
                    primary_open = 0;
                else
                    bad |= fork_close(&forks[who[k]]), forks_open--;
                continue;
            }
            if (who[k] >= 0) {
                fork_conn_t *c = &forks[who[k]];
                if (!c->bad && as_recstream_feed(c->rs, rbuf, (size_t)n)) {
                    fprintf(stderr, "allocsim record: %s: %s\n", c->path,
                            as_recstream_error(c->rs));
                    c->bad = 1;
                }
                continue;
            }
            if (progress && !bad && time(NULL) != shown) { /* once a second */
                shown = time(NULL);
                fprintf(stderr, "\rallocsim record: %" PRIu64 " events",
                        as_recstream_events(rs));
            }
            if (!bad && (rc = as_recstream_feed(rs, rbuf, (size_t)n))) {
                fprintf(stderr, "allocsim record: %s\n",
                        as_recstream_error(rs));
                bad = 1; /* keep draining so the program is never blocked */
            }
        }
    }
    if (listen_fd >= 0) close(listen_fd);
    close(sv[0]);
    if (progress) fprintf(stderr, "\r");
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);

    as_recstream_stats_t st = {0};
    if (!bad && (rc = as_recstream_finish(rs, &st))) {
        fprintf(stderr, "allocsim record: %s\n", as_recstream_error(rs));
        bad = 1;
    }
    char sv_status[64];
    if (WIFSIGNALED(status))
        snprintf(sv_status, sizeof sv_status, "signal %d", WTERMSIG(status));
    else
        snprintf(sv_status, sizeof sv_status, "exit %d", WEXITSTATUS(status));
    if (!bad) as_trace_writer_meta(w, "exit_status", sv_status);
    as_recstream_free(rs);
    if (!bad && st.images == 0) {
        fprintf(stderr,
                "allocsim record: %s (%s): the recorder never started in "
                "the program (statically linked, setuid, or %s failed to "
                "load: see the loader's message above); %s not written\n",
                cmd[0], sv_status, preload_abs, out_path);
        as_trace_writer_abort(w);
        return AS_EXIT_FAIL;
    }
    char cerr[1024];
    if (bad) {
        as_trace_writer_abort(w);
        fprintf(stderr, "allocsim record: %s not written\n", out_path);
    } else if ((rc = as_trace_writer_close_err(w, cerr, sizeof cerr))) {
        fprintf(stderr, "allocsim record: %s\n", cerr);
        bad = 1;
    }
    if (bad) return AS_EXIT_FAIL;
    struct stat sb;
    uint64_t bytes = stat(out_path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (!quiet)
        fprintf(
            stderr,
            "allocsim record: %s (%s): %" PRIu64 " events (%" PRIu64
            " allocs, %" PRIu64 " frees, %" PRIu64 " reallocs), %" PRIu64
            " stacks, %" PRIu64 " frames, %" PRIu64 " memory samples, %" PRIu64
            " write records, %" PRIu64 " bytes -> %s\n",
            cmd[0], sv_status, st.events, st.allocs, st.frees, st.reallocs,
            st.stacks, st.frames, st.mem_samples, st.writes, bytes, out_path);
    int incomplete = 0;
    if (st.end == AS_RECSTREAM_END_CUT || st.cut_off) {
        fprintf(stderr,
                "allocsim record: the recording was cut off before the "
                "program ended (killed by SIGKILL, or its socket closed "
                "behind the recorder's back): an unknown number of "
                "records lost (at least %" PRIu64
                "; see record.end and record.cut_off_images)\n",
                st.lost_records);
        incomplete = 1;
    } else if (st.end == AS_RECSTREAM_END_EXEC) {
        fprintf(stderr,
                "allocsim record: the program exec'd an image that the "
                "recorder could not enter (statically linked or setuid?): "
                "nothing after the exec is recorded\n");
        incomplete = 1;
    } else if (st.lost_records) {
        fprintf(stderr,
                "allocsim record: %" PRIu64 " records lost: numbered by "
                "the program but never shipped (record.lost_records)\n",
                st.lost_records);
    }
    if (st.partial_bytes)
        fprintf(stderr,
                "allocsim record: a record cut off mid-write (%" PRIu64
                " bytes) was dropped\n",
                st.partial_bytes);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    if (incomplete && WEXITSTATUS(status) == 0) return AS_EXIT_FAIL;
    return WEXITSTATUS(status);
}
