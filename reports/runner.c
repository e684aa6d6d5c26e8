/* runner.c - parallel, atomic, resumable execution of `allocsim run`
 * (runner.h).
 *
 * Host code: fork/exec, waitpid, rename. The children are the allocsim
 * binary itself; each dies with its parent (PR_SET_PDEATHSIG), so killing a
 * batch leaves no orphan that could finish later and race a rerun. A
 * temporary directory carries the writer's pid, and one whose writer is
 * gone is removed before its configuration runs again.
 */
#include "reports/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "reports/report.h"
#include "traces/codec.h"

uint64_t as_runner_args_hash(char *const *args)
{
    uint64_t h = AS_FNV64_INIT;
    for (; *args; args++)
        h = as_fnv1a64(h, (const uint8_t *)*args, strlen(*args) + 1);
    return h;
}

int as_runner_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int as_runner_self_exe(char *buf, size_t cap, char *err, size_t errcap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) {
        snprintf(err, errcap, "/proc/self/exe: cannot read: %s",
                 strerror(errno));
        return AS_EIO;
    }
    buf[n] = 0;
    return AS_OK;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int as_remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? AS_OK : AS_EIO;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? AS_OK : AS_EIO;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Remove OUT.tmp.<pid> directories whose writer is no longer running. */
static void clean_stale(const char *out)
{
    char dir[4096], base[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash) {
        snprintf(base, sizeof base, "%s", slash + 1);
        *slash = 0;
    } else {
        snprintf(base, sizeof base, "%s", dir);
        snprintf(dir, sizeof dir, ".");
    }
    DIR *d = opendir(dir);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".tmp.", 5))
            continue;
        long pid = strtol(e->d_name + bl + 5, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) == 0 && pid != getpid()) continue;
        char p[8400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        as_remove_tree(p);
    }
    closedir(d);
}

typedef struct {
    pid_t pid;
    size_t job;                          /* the first (or only) job */
    size_t members[AS_RUNNER_GROUP_MAX]; /* a group's jobs */
    size_t n_members;                    /* 0: job runs alone */
    char tmp[4200];
} slot_t;

/* Start job j, or the group s->members[0..n_members) whose first job is j:
 * @return 0 and fill s, or AS_EIO. */
static int start(const as_runner_opts_t *o, as_job_t *jobs, size_t j, slot_t *s,
                 char *err, size_t errcap)
{
    as_job_t *job = &jobs[j];
    for (size_t m = 0; m < (s->n_members ? s->n_members : 1); m++) {
        const as_job_t *x = s->n_members ? &jobs[s->members[m]] : job;
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", x->out_dir);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = 0;
            int rc = as_mkdirs(parent, err, errcap);
            if (rc != AS_OK) return rc;
        }
        clean_stale(x->out_dir);
    }
    snprintf(s->tmp, sizeof s->tmp, "%s.tmp.%ld", job->out_dir, (long)getpid());
    as_remove_tree(s->tmp);
    char log[4300];
    if (s->n_members)
        snprintf(log, sizeof log, "%s.log", s->tmp);
    else
        snprintf(log, sizeof log, "%s.log", job->out_dir);
    char **args = s->n_members ? job->group_args : job->args;
    size_t na = 0;
    while (args[na])
        na++;
    char **argv = calloc(na + 2 * s->n_members + 6, sizeof *argv);
    if (!argv) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    size_t a = 0;
    argv[a++] = (char *)o->exe;
    argv[a++] = "run";
    for (size_t m = 0; m < s->n_members; m++) {
        argv[a++] = "--config";
        argv[a++] = (char *)jobs[s->members[m]].config;
    }
    memcpy(argv + a, args, na * sizeof *argv);
    a += na;
    argv[a++] = "-q";
    argv[a++] = "-o";
    argv[a++] = s->tmp;
    pid_t parent_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        snprintf(err, errcap, "cannot start a run: %s", strerror(errno));
        return AS_EIO;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent_pid) _exit(125);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(o->exe, argv);
        fprintf(stderr, "cannot run %s: %s\n", o->exe, strerror(errno));
        _exit(127);
    }
    free(argv);
    s->pid = pid;
    s->job = j;
    return AS_OK;
}

/* The first line of the run's log that says what went wrong. */
static void first_error(const char *log, char *buf, size_t cap)
{
    buf[0] = 0;
    FILE *f = fopen(log, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!buf[0] || strstr(line, "allocsim")) snprintf(buf, cap, "%s", line);
        if (strstr(line, "allocsim")) break;
    }
    fclose(f);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void show(const as_runner_opts_t *o, size_t done, size_t total,
                 size_t failed, size_t ran, double t0, size_t left, int last)
{
    if (!o->progress) return;
    char eta[32] = "";
    if (ran > 0 && left > 0) {
        double s = (now_s() - t0) / (double)ran * (double)left;
        snprintf(eta, sizeof eta, ", ETA %d:%02d", (int)(s / 60), (int)s % 60);
    }
    /* \033[K clears what a longer earlier line left (", ETA ...") */
    fprintf(stderr, "\r\033[K%s: %zu/%zu done, %zu failed%s%s", o->what, done,
            total, failed, eta, last ? "\n" : "");
    fflush(stderr);
}

/* Copy the file `from` to `to` (a group's messages to a member's log). */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[8192];
    for (size_t k; out && (k = fread(buf, 1, sizeof buf, in)) > 0;)
        fwrite(buf, 1, k, out);
    if (out) fclose(out);
    if (in) fclose(in);
}

/* Settle job after its process (of slot s) exited with code: rename its
 * result into place or report it failed. @return 1 when it failed. */
static int finish_job(const as_runner_opts_t *o, as_job_t *job, const slot_t *s,
                      int code)
{
    char log[4200], src[8400], sum[8500];
    snprintf(log, sizeof log, "%s.log", job->out_dir);
    if (s->n_members) {
        snprintf(src, sizeof src, "%s/%s", s->tmp, job->config);
        snprintf(sum, sizeof sum, "%s/summary.json", src);
        /* one configuration of the pass can fail while the others go on */
        if (!exists(sum))
            code = code ? code : 1;
        else
            code = 0;
    } else {
        snprintf(src, sizeof src, "%s", s->tmp);
    }
    if (code == 0 && rename(src, job->out_dir) != 0) {
        fprintf(stderr, "%s%s: %s: cannot rename into place: %s\n",
                o->progress ? "\n" : "", o->what, job->out_dir,
                strerror(errno));
        code = 1;
    }
    job->status = code;
    if (code == 0) {
        unlink(log);
        return 0;
    }
    if (s->n_members) {
        char glog[4300];
        snprintf(glog, sizeof glog, "%s.log", s->tmp);
        copy_file(glog, log);
    } else {
        as_remove_tree(s->tmp);
    }
    char line[1024];
    first_error(log, line, sizeof line);
    fprintf(stderr,
            "%s%s: run failed (exit %d): %s\n  %s (messages "
            "in %s)\n",
            o->progress ? "\n" : "", o->what, code, job->out_dir, line, log);
    return 1;
}

long as_runner_run(const as_runner_opts_t *o, as_job_t *jobs, size_t n,
                   char *err, size_t errcap)
{
    int width = o->jobs > 0 ? o->jobs : 1;
    slot_t *slots = calloc((size_t)width, sizeof *slots);
    if (!slots) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    size_t done = 0, failed = 0, ran = 0, todo = 0, next = 0, running = 0;
    for (size_t j = 0; j < n; j++) {
        char sum[4300];
        snprintf(sum, sizeof sum, "%s/summary.json", jobs[j].out_dir);
        jobs[j].status = -1;
        jobs[j].reused = exists(sum);
        if (jobs[j].reused) {
            jobs[j].status = 0;
            done++;
        } else {
            todo++;
        }
    }
    double t0 = now_s();
    show(o, done, n, failed, ran, t0, todo, 0);
    int rc = AS_OK;
    for (;;) {
        while (rc == AS_OK && running < (size_t)width && next < n) {
            if (jobs[next].status != -1) { /* done, or started in a group */
                next++;
                continue;
            }
            size_t k = 0;
            while (slots[k].pid)
                k++;
            slot_t *s = &slots[k];
            s->n_members = 0;
            for (size_t j = next; jobs[next].group && j < n &&
                                  s->n_members < AS_RUNNER_GROUP_MAX;
                 j++)
                if (jobs[j].group == jobs[next].group && jobs[j].status == -1)
                    s->members[s->n_members++] = j;
            if (s->n_members == 1) s->n_members = 0; /* alone */
            rc = start(o, jobs, next, s, err, errcap);
            if (rc == AS_OK) running++;
            for (size_t m = 0; rc == AS_OK && m < s->n_members; m++)
                jobs[s->members[m]].status = -2; /* started */
            next++;
        }
        if (running == 0) break;
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errcap, "waitpid: %s", strerror(errno));
            rc = AS_EIO;
            break;
        }
        size_t k = 0;
        while (k < (size_t)width && slots[k].pid != pid)
            k++;
        if (k == (size_t)width) continue; /* not one of ours */
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        size_t nm = slots[k].n_members ? slots[k].n_members : 1;
        for (size_t m = 0; m < nm; m++) {
            int group = slots[k].n_members != 0;
            as_job_t *job = &jobs[group ? slots[k].members[m] : slots[k].job];
            failed += finish_job(o, job, &slots[k], code);
            done++;
            ran++;
        }
        if (slots[k].n_members) {
            char log[4300];
            snprintf(log, sizeof log, "%s.log", slots[k].tmp);
            unlink(log);
            as_remove_tree(slots[k].tmp);
        }
        slots[k].pid = 0;
        running--;
        show(o, done, n, failed, ran, t0, todo - ran, 0);
    }
    show(o, done, n, failed, ran, t0, 0, 1);
    /* On a runner error, wait for what is still running. */
    for (int k = 0; k < width; k++)
        if (slots[k].pid) {
            waitpid(slots[k].pid, NULL, 0);
            as_remove_tree(slots[k].tmp);
            char log[4300];
            snprintf(log, sizeof log, "%s.log", slots[k].tmp);
            if (slots[k].n_members) unlink(log);
        }
    free(slots);
    return rc != AS_OK ? rc : (long)failed;
}
