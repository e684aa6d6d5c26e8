/* emit.c - job lines for GNU parallel and a Slurm array job (emit.h).
 *
 * Host code. Everything a job needs is on its line, single-quoted for a
 * POSIX shell, so the list runs unchanged under `parallel`, `xargs`, or
 * one Slurm array task per line on any node that sees the same files.
 */
#include "reports/emit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "sim/fileio.h"

/* s single-quoted for a POSIX shell. */
static void sq(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

int as_emit_job_line(FILE *f, const char *exe, const char *cwd,
                     const as_job_t *job)
{
    char log[4200];
    snprintf(log, sizeof log, "%s.log", job->out_dir);
    fputs("cd ", f);
    sq(f, cwd);
    fputs(" && d=", f);
    sq(f, job->out_dir);
    fputs(".tmp.$(hostname).$$ && rm -rf \"$d\" && { ", f);
    sq(f, exe);
    fputs(" run", f);
    for (char **a = job->args; *a; a++) {
        fputc(' ', f);
        sq(f, *a);
    }
    fputs(" -q -o \"$d\" >", f);
    sq(f, log);
    fputs(" 2>&1 && mv -T \"$d\" ", f);
    sq(f, job->out_dir);
    fputs(" && rm -f ", f);
    sq(f, log);
    fputs("; } || { rm -rf \"$d\"; exit 1; }\n", f);
    return ferror(f) ? AS_EIO : AS_OK;
}

static int write_file(const char *path, int (*fill)(FILE *, void *), void *ctx,
                      char *err, size_t errcap)
{
    as_outfile_t o;
    int rc = as_outfile_open(&o, path, err, errcap);
    if (rc != AS_OK) return rc;
    int ok = fill(o.f, ctx) == AS_OK;
    rc = as_outfile_close(&o, ok, err, errcap);
    if (rc == AS_OK && !ok) {
        snprintf(err, errcap, "%s: cannot write", path);
        rc = AS_EIO;
    }
    return rc;
}

typedef struct {
    const char *dir, *exe, *cwd;
    const as_job_t *jobs;
    size_t n, todo;
} emit_t;

static int fill_jobs(FILE *f, void *ctx)
{
    emit_t *e = ctx;
    e->todo = 0;
    for (size_t i = 0; i < e->n; i++) {
        char sum[4300];
        struct stat sb;
        snprintf(sum, sizeof sum, "%s/summary.json", e->jobs[i].out_dir);
        if (stat(sum, &sb) == 0) continue;
        if (as_emit_job_line(f, e->exe, e->cwd, &e->jobs[i]) != AS_OK)
            return AS_EIO;
        e->todo++;
    }
    return ferror(f) ? AS_EIO : AS_OK;
}

static int fill_sbatch(FILE *f, void *ctx)
{
    emit_t *e = ctx;
    char jobs[8400];
    if (e->dir[0] == '/')
        snprintf(jobs, sizeof jobs, "%s/jobs.txt", e->dir);
    else
        snprintf(jobs, sizeof jobs, "%s/%s/jobs.txt", e->cwd, e->dir);
    fprintf(f,
            "#!/bin/bash\n"
            "# allocsim sweep: one array task per line of jobs.txt (a run\n"
            "# of the sweep). Submit with: sbatch THIS_FILE; then merge the\n"
            "# results with: allocsim sweep SPEC --collect DIR\n"
            "#SBATCH --job-name=allocsim-sweep\n"
            "#SBATCH --array=1-%zu\n"
            "#SBATCH --ntasks=1\n"
            "#SBATCH --cpus-per-task=1\n"
            "#SBATCH --output=/dev/null\n"
            "line=$(sed -n \"${SLURM_ARRAY_TASK_ID}p\" ",
            e->todo);
    sq(f, jobs);
    fprintf(f, ")\nexec bash -c \"$line\"\n");
    return ferror(f) ? AS_EIO : AS_OK;
}

int as_emit_write(const char *dir, const char *exe, const char *cwd,
                  const as_job_t *jobs, size_t n, int slurm, size_t *todo,
                  char *err, size_t errcap)
{
    emit_t e = {dir, exe, cwd, jobs, n, 0};
    char path[4200];
    snprintf(path, sizeof path, "%s/jobs.txt", dir);
    int rc = write_file(path, fill_jobs, &e, err, errcap);
    *todo = e.todo;
    if (rc == AS_OK && slurm) {
        snprintf(path, sizeof path, "%s/sweep.sbatch", dir);
        rc = write_file(path, fill_sbatch, &e, err, errcap);
    }
    return rc;
}
