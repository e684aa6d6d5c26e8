/* param.h - named, typed, bounded parameters of a pluggable part.
 *
 * Every policy and predictor describes its knobs in one const table of
 * as_param_spec_t. The same table feeds `--param part.name=value`, `--help`
 * and the summary JSON, and the real allocator's ALLOCSIM_PARAM environment
 * variable (malloc/config.h). Values are resolved
 * into a flat array of as_param_value_t, one slot per spec row, in table
 * order: the part reads `values[MY_PARAM_X]`.
 *
 * param.c uses no libc allocation and no stdio, so code that runs before any
 * heap exists can call it. as_param_parse_value is allocsim's one number
 * parser: the command line's numeric options use it too (sim/cliopt.c).
 */
#ifndef AS_COMMON_PARAM_H
#define AS_COMMON_PARAM_H

#include <stddef.h>
#include <stdint.h>

/* The value types. Numbers are written the same way everywhere (command-line
 * options, --param, environment): no sign, no blanks, digits with an optional
 * fraction and unit; a fraction must come out as a whole number after the
 * unit (1.5K = 1536 bytes; 1.1 bytes is an error), and a value that
 * overflows 64 bits after the unit is an error. */
typedef enum {
    AS_PARAM_U64,    /* count; 0x hex, or decimal with K/M/G/T = x10^3/6/9/12 */
    AS_PARAM_BYTES,  /* bytes; 0x hex, or decimal with B, K/M/G/T (x1024^n,
                       also KB/KiB...) */
    AS_PARAM_NS,     /* duration, stored in ns; unit required: ns, us, ms, s,
                       min, h (a bare 0 is allowed: zero in any unit) */
    AS_PARAM_DOUBLE, /* real number: [-]digits[.digits][e[-]digits] */
    AS_PARAM_BOOL,   /* 0/1, true/false, on/off, yes/no */
    AS_PARAM_ENUM,   /* one of `choices` ("a|b|c"); value is the index */
    AS_PARAM_POW2    /* bytes, as AS_PARAM_BYTES, that must be a power of two */
} as_param_type_t;

typedef struct {
    const char *name; /* e.g. "block_size" (no part prefix) */
    as_param_type_t type;
    const char *def;     /* default, written as a user would write it */
    double min, max;     /* inclusive bounds (ignored for BOOL and ENUM) */
    const char *choices; /* ENUM only: "a|b|c" */
    const char *doc;     /* one line */
} as_param_spec_t;

typedef union {
    uint64_t u; /* U64, BYTES, NS, BOOL (0/1), ENUM (index) */
    double d;   /* DOUBLE */
} as_param_value_t;

/* as_param_parse_value: parse text `s` (length `len`) as `spec` wants. The
 * one number parser of allocsim: the command line's numeric options go
 * through it too.
 * @return 0, or AS_EINVAL (not a value of that type: empty, blank, signed,
 * unknown unit, fraction that is not whole, not a power of two) / AS_ERANGE
 * (overflows 64 bits, or outside [min, max]). */
int as_param_parse_value(const as_param_spec_t *spec, const char *s, size_t len,
                         as_param_value_t *out);

/* as_param_defaults: fill values[0..n) with the table's defaults.
 * @return 0, or the error of the first bad default (a bug in the table). */
int as_param_defaults(const as_param_spec_t *specs, size_t n,
                      as_param_value_t *values);

/* as_param_find: @return the index of `name` (length len) in specs, or -1. */
int as_param_find(const as_param_spec_t *specs, size_t n, const char *name,
                  size_t len);

/* as_param_set: apply one "name=value" assignment (no part prefix).
 * @return 0, AS_ENOTFOUND (no such name), AS_EINVAL or AS_ERANGE. */
int as_param_set(const as_param_spec_t *specs, size_t n,
                 as_param_value_t *values, const char *assignment);

/* as_param_explain: describe the values `spec` accepts, for an error message
 * that follows "must be ": e.g. "a power of two between 4K and 64K bytes",
 * "a duration with a unit (ns, us, ms, s, min, h) from 1us to 1000000s",
 * "one of never, madvise, always". Always terminated (cut when buf is short).
 * @return the length written. */
size_t as_param_explain(const as_param_spec_t *spec, char *buf, size_t cap);

/* as_param_range: the bounds of a number as "MIN..MAX", each written as a
 * user would ("4K..64K", "1us..100s"). Always terminated.
 * @return the length written. */
size_t as_param_range(const as_param_spec_t *spec, char *buf, size_t cap);

/* as_param_format: write values[i] as text into buf (always terminated).
 * Bytes and durations are printed as plain integers.
 * @return the length written, or AS_EINVAL when buf is too small. */
int as_param_format(const as_param_spec_t *spec, as_param_value_t v, char *buf,
                    size_t cap);

#endif /* AS_COMMON_PARAM_H */
