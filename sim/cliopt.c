/* cliopt.c - the one option parser of the `allocsim` command line (see
 * cliopt.h for the grammar), its help printer, its error printer and the
 * standard-input spool.
 *
 * It owns no memory: the parser walks the caller's argv and tables, and
 * results point into them. Values are parsed by as_param_parse_value, never
 * here, so a number on the command line obeys the same rules as in --param.
 * It prints (it is command-line code); library code never calls it.
 */
#include "sim/cliopt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

const as_opt_letter_t as_opts_letters[] = {
    {'h', "help"},   {'o', "output"}, {'q', "quiet"},
    {'p', "policy"}, {'P', "param"},  {'n', "events"},
    {'f', "format"}, {'j', "jobs"},   {0, NULL},
};

static const as_opts_owner_t *owners;
static size_t n_owners;
static const char *current_cmd = "";
static char stdin_path[32]; /* "/dev/fd/N" once "-" was spooled */

void as_opts_set_owners(const as_opts_owner_t *o, size_t n)
{
    owners = o;
    n_owners = n;
}

void as_cli_err(const char *fmt, ...)
{
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "allocsim %s: ", current_cmd);
    const char *p = msg;
    size_t sl = strlen(stdin_path);
    for (const char *hit; sl && (hit = strstr(p, stdin_path)) != NULL;
         p = hit + sl)
        fprintf(stderr, "%.*s<stdin>", (int)(hit - p), p);
    fprintf(stderr, "%s\n", p);
}

void as_opts_init(as_opts_t *p, const char *cmd, const as_opt_t *const *tables,
                  int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->tables = tables;
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
    current_cmd = cmd;
}

static const as_opt_t *find_long(const as_opt_t *const *tables,
                                 const char *name, size_t len)
{
    for (; tables && *tables; tables++)
        for (const as_opt_t *o = *tables; o->name; o++)
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                return o;
    return NULL;
}

static const as_opt_t *find_short(const as_opt_t *const *tables, char c)
{
    for (; tables && *tables; tables++)
        for (const as_opt_t *o = *tables; o->name; o++)
            if (o->letter == c) return o;
    return NULL;
}

/* unknown: "unknown option 'X'", plus which subcommands take it. */
static int unknown(const as_opts_t *p, const char *spelled, size_t len,
                   char letter)
{
    char where[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < n_owners && off < sizeof where; i++) {
        if (strcmp(owners[i].cmd, p->cmd) == 0) continue;
        const as_opt_t *o =
            letter ? find_short(owners[i].tables, letter)
                   : find_long(owners[i].tables, spelled + 2, len - 2);
        if (o)
            off += (size_t)snprintf(where + off, sizeof where - off, "%s%s",
                                    off ? ", " : "", owners[i].cmd);
    }
    const char *long_name = NULL;
    for (const as_opt_letter_t *l = as_opts_letters; letter && l->letter; l++)
        if (l->letter == letter) long_name = l->name;
    if (where[0] && long_name)
        as_cli_err("option '-%c' (--%s) belongs to %s, not %s (see allocsim "
                   "%s --help)",
                   letter, long_name, where, p->cmd, p->cmd);
    else if (where[0])
        as_cli_err("option '%.*s' belongs to %s, not %s (see allocsim %s "
                   "--help)",
                   (int)len, spelled, where, p->cmd, p->cmd);
    else if (letter)
        as_cli_err("unknown option '-%c' (see allocsim %s --help)", letter,
                   p->cmd);
    else
        as_cli_err("unknown option '%.*s' (see allocsim %s --help)", (int)len,
                   spelled, p->cmd);
    return AS_OPT_ERROR;
}

int as_opts_bad_value(const as_opts_t *p, const char *what)
{
    as_cli_err("--%s '%s': must be %s", p->opt->name, p->text, what);
    return AS_OPT_ERROR;
}

/* take_value: o takes `text` as its value; parse it when typed. */
static int take_value(as_opts_t *p, const as_opt_t *o, const char *text)
{
    p->opt = o;
    p->text = text;
    if (o->kind != AS_OPT_TYPED) return o->id;
    as_param_spec_t spec = {o->name, o->type,    "",    o->min,
                            o->max,  o->choices, o->doc};
    if (as_param_parse_value(&spec, text, strlen(text), &p->value) == AS_OK)
        return o->id;
    char what[256];
    as_param_explain(&spec, what, sizeof what);
    return as_opts_bad_value(p, what);
}

/* A value for o from the next argv, or an error naming o. */
static int next_value(as_opts_t *p, const as_opt_t *o)
{
    if (p->next >= p->argc) {
        as_cli_err("--%s needs a value (%s)", o->name, o->meta ? o->meta : "");
        return AS_OPT_ERROR;
    }
    return take_value(p, o, p->argv[p->next++]);
}

/* One letter of a short-option bundle ("-qo" "out", "-oout", "-n5"). */
static int next_short(as_opts_t *p)
{
    char c = *p->bundle++;
    if (c == 'h') {
        p->bundle = NULL;
        return AS_OPT_HELP;
    }
    const as_opt_t *o = find_short(p->tables, c);
    if (!o) {
        p->bundle = NULL;
        return unknown(p, NULL, 0, c);
    }
    if (o->kind == AS_OPT_FLAG) {
        if (!*p->bundle) p->bundle = NULL;
        p->opt = o;
        p->text = NULL;
        return o->id;
    }
    const char *rest = p->bundle;
    p->bundle = NULL;
    if (*rest == '=') rest++; /* -o=FILE as --output=FILE */
    return *rest ? take_value(p, o, rest) : next_value(p, o);
}

int as_opts_next(as_opts_t *p)
{
    p->opt = NULL;
    p->text = NULL;
    if (p->bundle) return next_short(p);
    if (p->next >= p->argc) return AS_OPT_END;
    const char *a = p->argv[p->next++];
    if (p->positional_only || a[0] != '-' || a[1] == 0) {
        if (p->stop_at_arg) p->positional_only = 1;
        p->text = a;
        return AS_OPT_ARG;
    }
    if (strcmp(a, "--") == 0) {
        p->positional_only = 1;
        return as_opts_next(p);
    }
    if (a[1] != '-') {
        p->bundle = a + 1;
        return next_short(p);
    }
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    if (len == 6 && strncmp(a, "--help", 6) == 0) return AS_OPT_HELP;
    const as_opt_t *o = find_long(p->tables, a + 2, len - 2);
    if (!o) return unknown(p, a, len, 0);
    if (o->kind == AS_OPT_FLAG) {
        if (eq) {
            as_cli_err("--%s takes no value (found '%s')", o->name, a);
            return AS_OPT_ERROR;
        }
        p->opt = o;
        return o->id;
    }
    return eq ? take_value(p, o, eq + 1) : next_value(p, o);
}

void as_opts_help(FILE *f, const as_opt_t *const *tables)
{
    fprintf(f, "\noptions:\n");
    for (const as_opt_t *const *t = tables; *t; t++)
        for (const as_opt_t *o = *t; o->name; o++) {
            char head[64];
            snprintf(head, sizeof head, "%c%c%c --%s%s%s",
                     o->letter ? '-' : ' ', o->letter ? o->letter : ' ',
                     o->letter ? ',' : ' ', o->name, o->meta ? " " : "",
                     o->meta ? o->meta : "");
            fprintf(f, "  %-26s", head);
            if (strlen(head) > 26) fprintf(f, "\n  %-26s", "");
            for (const char *d = o->doc; *d; d++) {
                fputc(*d, f);
                if (*d == '\n') fprintf(f, "  %-26s", "");
            }
            fputc('\n', f);
        }
    fprintf(f, "  %-26s%s\n", "-h, --help", "this help");
    fprintf(f, "\nThe same grammar in every subcommand (docs/cli.md): "
               "--name=VALUE or --name VALUE;\n"
               "short letters mean the same everywhere: -h help, -o output, "
               "-q quiet,\n"
               "-p policy, -P param, -n events, -f format, -j jobs.\n"
               "`--` ends the options; `-` is standard input or output. "
               "Numbers take units:\ncounts K/M/G/T (x1000), sizes K/M/G/T "
               "(x1024), durations ns/us/ms/s/min/h\n(a unit is required).\n"
               "Exit status: 0 ok, 1 the work failed, 2 bad usage or bad "
               "input.\n");
}

int as_cli_is_stdio(const char *arg)
{
    return arg && strcmp(arg, "-") == 0;
}

/* write_all: all of buf to fd. @return 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

const char *as_cli_input(const char *arg)
{
    if (!as_cli_is_stdio(arg)) return arg;
    if (stdin_path[0]) {
        as_cli_err("standard input ('-') can be read only once");
        return NULL;
    }
    struct stat st;
    if (fstat(0, &st) != 0) {
        as_cli_err("standard input: %s", strerror(errno));
        return NULL;
    }
    int fd = 0;
    if (!S_ISREG(st.st_mode)) {
        const char *dir = getenv("TMPDIR");
        char tmpl[4096];
        snprintf(tmpl, sizeof tmpl, "%s/allocsim-stdin-XXXXXX",
                 dir && *dir ? dir : "/tmp");
        fd = mkstemp(tmpl);
        if (fd < 0) {
            as_cli_err("%s: cannot spool standard input: %s", tmpl,
                       strerror(errno));
            return NULL;
        }
        unlink(tmpl); /* gone when we exit, whatever happens */
        static char buf[1 << 16];
        for (;;) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) break;
            if (n < 0 || write_all(fd, buf, (size_t)n) != 0) {
                as_cli_err("cannot spool standard input to %s: %s",
                           dir && *dir ? dir : "/tmp", strerror(errno));
                close(fd);
                return NULL;
            }
        }
    }
    snprintf(stdin_path, sizeof stdin_path, "/dev/fd/%d", fd);
    return stdin_path;
}
