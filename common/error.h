/* error.h - the one error convention of allocsim.
 *
 * Every library function returns int: 0 (AS_OK) on success, a negative
 * AS_E* code on failure. as_strerror() names a code. This header is
 * self-contained (no libc, no other part of the tree), so traces/, policies/,
 * predictors/ and the real allocator can all include it.
 */
#ifndef AS_COMMON_ERROR_H
#define AS_COMMON_ERROR_H

enum {
    AS_OK = 0,
    AS_ENOMEM = -1,          /* out of memory (host or metadata arena) */
    AS_EINVAL = -2,          /* bad argument or bad usage */
    AS_EIO = -3,             /* read/write/open failed */
    AS_EFORMAT = -4,         /* malformed input (bad magic, bad record) */
    AS_EVERSION = -5,        /* unsupported format version */
    AS_ETRUNCATED = -6,      /* input ends in the middle of a unit */
    AS_EUNKNOWN_OBJECT = -7, /* a free or realloc names an object not live */
    AS_EDOUBLE_FREE = -8,    /* an object freed twice */
    AS_ETOO_LARGE = -9,      /* request exceeds what the policy can serve */
    AS_ENOTFOUND = -10,      /* unknown name (policy, predictor, param) */
    AS_ERANGE = -11,         /* value outside its bounds */
    AS_ECHECK = -12,         /* the checking layer found a violated invariant */
    AS_EUNSUPPORTED = -13,   /* operation not supported by this component */
    AS_ECORRUPT = -14,       /* checksum or decompression failure */
    AS_ENOSPACE = -15        /* address space exhausted */
};

/* as_strerror: @return a static, human-readable name for an AS_E* code. */
static inline const char *as_strerror(int code)
{
    switch (code) {
    case AS_OK:
        return "ok";
    case AS_ENOMEM:
        return "out of memory";
    case AS_EINVAL:
        return "invalid argument";
    case AS_EIO:
        return "i/o error";
    case AS_EFORMAT:
        return "malformed input";
    case AS_EVERSION:
        return "unsupported format version";
    case AS_ETRUNCATED:
        return "truncated input";
    case AS_EUNKNOWN_OBJECT:
        return "unknown object";
    case AS_EDOUBLE_FREE:
        return "double free";
    case AS_ETOO_LARGE:
        return "request too large";
    case AS_ENOTFOUND:
        return "not found";
    case AS_ERANGE:
        return "value out of range";
    case AS_ECHECK:
        return "invariant violated";
    case AS_EUNSUPPORTED:
        return "unsupported";
    case AS_ECORRUPT:
        return "corrupt data";
    case AS_ENOSPACE:
        return "address space exhausted";
    default:
        return "unknown error";
    }
}

#endif /* AS_COMMON_ERROR_H */
