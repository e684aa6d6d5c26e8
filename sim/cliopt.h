/* cliopt.h - the one option parser of the `allocsim` command line.
 *
 * Every subcommand describes its options in const tables of as_opt_t and
 * reads them with as_opts_next(), getopt-style. The grammar is the same
 * everywhere (docs/cli.md):
 *   --name=VALUE and --name VALUE; -x VALUE and -xVALUE; flags bundle (-qh);
 *   -h/--help in every subcommand; `--` ends the options; a lone `-` is an
 *   argument (standard input or output); options and arguments may come in
 *   any order (except where a command to run starts: `allocsim record`);
 *   long names are matched exactly (no abbreviations);
 *   an unknown option is refused by name, and one that belongs to another
 *   subcommand says which;
 *   numeric and choice values are parsed by as_param_parse_value
 *   (common/param.c), so units and limits are those of --param.
 * Short letters mean the same in every subcommand: as_opts_letters lists
 * them. Errors go to stderr as "allocsim CMD: what", and the caller exits
 * with AS_EXIT_USAGE.
 */
#ifndef AS_SIM_CLIOPT_H
#define AS_SIM_CLIOPT_H

#include <stdio.h>

#include "common/param.h"

typedef enum {
    AS_OPT_FLAG,   /* no value */
    AS_OPT_STRING, /* any text: a path, a name, NAME=VALUE */
    AS_OPT_TYPED   /* a value of `type` within [min, max] (or `choices`) */
} as_opt_kind_t;

/* One option. Tables end with a row whose name is NULL. */
typedef struct {
    int id;               /* returned by as_opts_next; > 0, unique per cmd */
    const char *name;     /* long name without "--", e.g. "events" */
    char letter;          /* short letter (as_opts_letters), or 0 */
    as_opt_kind_t kind;   /* flag, string or typed */
    as_param_type_t type; /* AS_OPT_TYPED: how the value is parsed */
    double min, max;      /* AS_OPT_TYPED numbers: inclusive bounds */
    const char *choices;  /* AS_OPT_TYPED enums: "a|b|c" */
    const char *meta;     /* the value's name in help ("N", "PATH") */
    const char *doc;      /* help text; '\n' starts another line */
} as_opt_t;

/* Table rows, one line each in the tables: a flag, a text value (a path, a
 * name, NAME=VALUE), a number of an AS_PARAM_* type within [MIN, MAX], or
 * one of CHOICES ("a|b|c"; the value is its index). LETTER is 0 or a
 * letter of as_opts_letters. */
#define AS_OPT_ROW_FLAG(ID, NAME, LETTER, DOC)                                 \
    {                                                                          \
        .id = (ID), .name = (NAME), .letter = (LETTER), .kind = AS_OPT_FLAG,   \
        .doc = (DOC)                                                           \
    }
#define AS_OPT_ROW_TEXT(ID, NAME, LETTER, META, DOC)                           \
    {                                                                          \
        .id = (ID), .name = (NAME), .letter = (LETTER), .kind = AS_OPT_STRING, \
        .meta = (META), .doc = (DOC)                                           \
    }
#define AS_OPT_ROW_NUM(ID, NAME, LETTER, TYPE, MIN, MAX, META, DOC)            \
    {                                                                          \
        .id = (ID), .name = (NAME), .letter = (LETTER), .kind = AS_OPT_TYPED,  \
        .type = (TYPE), .min = (MIN), .max = (MAX), .meta = (META),            \
        .doc = (DOC)                                                           \
    }
#define AS_OPT_ROW_CHOICE(ID, NAME, LETTER, CHOICES, META, DOC)                \
    {                                                                          \
        .id = (ID), .name = (NAME), .letter = (LETTER), .kind = AS_OPT_TYPED,  \
        .type = AS_PARAM_ENUM, .choices = (CHOICES), .meta = (META),           \
        .doc = (DOC)                                                           \
    }

/* The short letters, one meaning each, in every subcommand that has it. */
typedef struct {
    char letter;
    const char *name; /* the long option it stands for */
} as_opt_letter_t;
extern const as_opt_letter_t as_opts_letters[]; /* ends with letter 0 */

/* A subcommand and its option tables, for telling a user which subcommand
 * an option they gave belongs to. */
typedef struct {
    const char *cmd;
    const as_opt_t *const *tables; /* NULL-terminated */
} as_opts_owner_t;

/* as_opts_set_owners: the every-subcommand list (from sim/main.c). */
void as_opts_set_owners(const as_opts_owner_t *owners, size_t n);

/* Special results of as_opts_next. */
enum {
    AS_OPT_END = 0,    /* no more arguments */
    AS_OPT_ARG = -1,   /* a positional argument in p->text */
    AS_OPT_HELP = -2,  /* -h or --help */
    AS_OPT_ERROR = -3, /* message printed; exit AS_EXIT_USAGE */
};

typedef struct {
    const char *cmd;               /* "gen": messages "allocsim gen: ..." */
    const as_opt_t *const *tables; /* NULL-terminated */
    int argc;
    char **argv;
    int next;            /* next argv index to look at */
    const char *bundle;  /* the rest of a short-option bundle, or NULL */
    int positional_only; /* after "--" */
    int stop_at_arg;     /* the first positional ends the options */
    /* results of the last call */
    const as_opt_t *opt;    /* the option found (NULL for specials) */
    const char *text;       /* its value as written, or the positional */
    as_param_value_t value; /* AS_OPT_TYPED: the parsed value */
} as_opts_t;

/* as_opts_init: start parsing argv[1..argc) of subcommand `cmd` (argv[0] is
 * the subcommand's name) against `tables`. Also makes `cmd` the name that
 * as_cli_err() prints. */
void as_opts_init(as_opts_t *p, const char *cmd, const as_opt_t *const *tables,
                  int argc, char **argv);

/* as_opts_next: the next option or argument. @return the option's id (> 0,
 * with p->opt, p->text and, when typed, p->value set), AS_OPT_ARG (p->text),
 * AS_OPT_HELP, AS_OPT_END, or AS_OPT_ERROR (message printed: an unknown or
 * misplaced option, a missing value, a value to a flag, a bad value). When
 * p->stop_at_arg is set, the first AS_OPT_ARG ends the parse: the remaining
 * arguments are argv[p->next - 1 ..]. */
int as_opts_next(as_opts_t *p);

/* as_opts_bad_value: print "allocsim CMD: --NAME 'TEXT': must be ..." for
 * a value that failed a check of the caller's own (after as_opts_next), with
 * `what` saying what it must be. @return AS_OPT_ERROR. */
int as_opts_bad_value(const as_opts_t *p, const char *what);

/* as_opts_help: print the options of `tables` (two columns: "-x, --name
 * META" and the doc), then the lines every subcommand's help ends with:
 * short letters, units, `-` and `--`, exit statuses. */
void as_opts_help(FILE *f, const as_opt_t *const *tables);

/* as_cli_err: print "allocsim CMD: " + the formatted message + newline to
 * stderr, CMD being the subcommand of the last as_opts_init. The name of a
 * spooled standard input (as_cli_input) is shown as "<stdin>". */
void as_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* as_cli_input: the path to open for input argument `arg`. "-" is standard
 * input: used as it is when it is a regular file, otherwise copied to an
 * unlinked temporary file in $TMPDIR (default /tmp), since the trace reader
 * seeks (pread) and the importers look at the first bytes; either way the
 * path returned is "/dev/fd/N". Other arguments are returned unchanged.
 * @return the path, or NULL (message printed; exit AS_EXIT_FAIL). */
const char *as_cli_input(const char *arg);

/* as_cli_is_stdio: 1 when arg is "-" (standard input or output). */
int as_cli_is_stdio(const char *arg);

#endif /* AS_SIM_CLIOPT_H */
