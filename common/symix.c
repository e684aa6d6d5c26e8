/* symix.c - dladdr's answer from a sorted index of each loaded object's
 * dynamic symbols (see symix.h).
 *
 * What dladdr answers, at O(log n) per lookup: dladdr scans every dynamic
 * symbol of the module for each address (cc1 exports 28,401, and a
 * recorded compile meets thousands of distinct pcs: 29% of the recording's
 * CPU). The index holds, once per module, the module's dynamic symbols
 * sorted by address (mmap'd, never libc malloc), and answers by glibc's
 * rule (elf/dl-addr.c, determine_info): among the defined, non-TLS,
 * non-absolute symbols that contain the address (an undefined or
 * zero-sized one only at its exact address), the one with the highest
 * address, the first in symbol-table order on a tie; the file name is the
 * object's (argv[0] for the main program), the base is the start of its
 * first mapping. An object unloaded since (dl_iterate_phdr's dlpi_subs
 * moved) empties it. Shared by the recorder (traces/record/record.c) and
 * the real allocator's predictor layer (malloc/predict.c), so both name a
 * frame the same way.
 */
#include "common/symix.h"

#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_bytes(void)
{
    static size_t page;
    if (!page) {
        long p = sysconf(_SC_PAGESIZE);
        page = p > 0 ? (size_t)p : 4096;
    }
    return page;
}

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

#if UINTPTR_MAX > 0xffffffffu
#define AS_ST_BIND ELF64_ST_BIND
#define AS_ST_TYPE ELF64_ST_TYPE
#else
#define AS_ST_BIND ELF32_ST_BIND
#define AS_ST_TYPE ELF32_ST_TYPE
#endif

typedef struct {
    uintptr_t lo, end; /* the symbol's address and the end that matches */
    uint32_t name;     /* offset in the string table */
    uint32_t order;    /* index in the symbol table (ties) */
} symix_ent_t;

typedef struct {
    uintptr_t addr;      /* load bias (dlpi_addr) */
    const char *name;    /* dlpi_name as given */
    const char *strtab;  /* relocated */
    symix_ent_t *ents;   /* sorted by (lo, order) */
    uintptr_t *max_end;  /* max_end[i] = max end of ents[0..i] */
    size_t n, map_bytes; /* entries; bytes mapped for ents + max_end */
} symix_mod_t;

#define SYMIX_MODS 512
static symix_mod_t g_symix[SYMIX_MODS];
static size_t g_symix_n;
static unsigned long long g_symix_subs;

typedef struct {
    uintptr_t addr;          /* in */
    uintptr_t base;          /* out: its first mapping's start */
    unsigned long long subs; /* out: dlpi_subs */
    int seen;                /* objects visited */
    Dl_info *di;
    int found;
    int indexed; /* out: the object has an index (maybe of no symbols) */
} symix_find_t;

static void symix_reset(void)
{
    for (size_t i = 0; i < g_symix_n; i++)
        if (g_symix[i].ents) munmap(g_symix[i].ents, g_symix[i].map_bytes);
    memset(g_symix, 0, sizeof g_symix);
    g_symix_n = 0;
}

/* symix_cmp_less: the index's order: address, then symbol-table order. */
static int symix_less(const symix_ent_t *a, const symix_ent_t *b)
{
    return a->lo < b->lo || (a->lo == b->lo && a->order < b->order);
}

/* symix_sort: heap sort (no libc qsort: it may call malloc). */
static void symix_sort(symix_ent_t *v, size_t n)
{
    for (size_t k = n / 2; k-- > 0;) {
        for (size_t i = k;;) {
            size_t c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && symix_less(&v[c], &v[c + 1])) c++;
            if (!symix_less(&v[i], &v[c])) break;
            symix_ent_t t = v[i];
            v[i] = v[c], v[c] = t, i = c;
        }
    }
    for (size_t m = n; m-- > 1;) {
        symix_ent_t t = v[0];
        v[0] = v[m], v[m] = t;
        for (size_t i = 0;;) {
            size_t c = 2 * i + 1;
            if (c >= m) break;
            if (c + 1 < m && symix_less(&v[c], &v[c + 1])) c++;
            if (!symix_less(&v[i], &v[c])) break;
            t = v[i];
            v[i] = v[c], v[c] = t, i = c;
        }
    }
}

/* symix_build: the index of one object (its dynamic symbols); on any
 * failure an empty index (lookups then give the file but no symbol). */
static void symix_build(symix_mod_t *m, const struct dl_phdr_info *info)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
                                      info->dlpi_phdr[i].p_vaddr);
    if (!dyn) return;
    uintptr_t symtab = 0, strtab = 0, gnuhash = 0, hash = 0, strsz = 0;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB:
            symtab = dyn->d_un.d_ptr;
            break;
        case DT_STRTAB:
            strtab = dyn->d_un.d_ptr;
            break;
        case DT_GNU_HASH:
            gnuhash = dyn->d_un.d_ptr;
            break;
        case DT_HASH:
            hash = dyn->d_un.d_ptr;
            break;
        case DT_STRSZ:
            strsz = dyn->d_un.d_val;
            break;
        default:
            break;
        }
    }
    /* the loader relocates these in place, except in a read-only dynamic
     * section (the vDSO's): there they are still offsets */
    uintptr_t bias = info->dlpi_addr;
#define AS_RELOC(p) ((p) && (p) < bias ? (p) + bias : (p))
    symtab = AS_RELOC(symtab), strtab = AS_RELOC(strtab);
    gnuhash = AS_RELOC(gnuhash), hash = AS_RELOC(hash);
#undef AS_RELOC
    if (!symtab || !strtab || (!gnuhash && !hash)) return;
    const ElfW(Sym) *sy = (const ElfW(Sym) *)symtab;
    /* the symbols the hash table references: [first, count) */
    size_t first = 1, count = 0;
    const uint32_t *buckets = NULL, *chain0 = NULL;
    uint32_t nb = 0;
    if (gnuhash) {
        const uint32_t *g = (const uint32_t *)gnuhash;
        nb = g[0];
        uint32_t symoffset = g[1], bloom = g[2];
        buckets = (const uint32_t *)(gnuhash + 16 + bloom * sizeof(ElfW(Addr)));
        chain0 = buckets + nb - symoffset; /* chain0[i]: symbol i's word */
        first = symoffset, count = symoffset;
        for (uint32_t b = 0; b < nb; b++) {
            uint32_t i = buckets[b];
            if (!i) continue;
            while (!(chain0[i] & 1u))
                i++;
            if ((size_t)i + 1 > count) count = (size_t)i + 1;
        }
    } else {
        count = ((const uint32_t *)hash)[1]; /* nchain */
    }
    if (count <= first) return;
    size_t cap = count - first;
    size_t bytes = cap * (sizeof(symix_ent_t) + sizeof(uintptr_t));
    bytes = (bytes + page_bytes() - 1) & ~(page_bytes() - 1);
    symix_ent_t *v = map_zeroed(bytes);
    if (!v) return;
    uintptr_t *mx = (uintptr_t *)(v + cap);
    size_t n = 0;
    for (size_t i = first; i < count; i++) {
        const ElfW(Sym) *x = &sy[i];
        if (!gnuhash && AS_ST_BIND(x->st_info) == STB_LOCAL) continue;
        if ((x->st_shndx == SHN_UNDEF && x->st_value == 0) ||
            x->st_shndx == SHN_ABS || AS_ST_TYPE(x->st_info) == STT_TLS ||
            (strsz && x->st_name >= strsz))
            continue;
        uintptr_t lo = bias + x->st_value;
        int exact = x->st_size == 0; /* glibc: a sized one matches its range */
        v[n].lo = lo;
        v[n].end = lo + (exact ? 1 : x->st_size);
        v[n].name = x->st_name;
        v[n].order = (uint32_t)i;
        n++;
    }
    symix_sort(v, n);
    for (size_t i = 0; i < n; i++)
        mx[i] = i && mx[i - 1] > v[i].end ? mx[i - 1] : v[i].end;
    m->strtab = (const char *)strtab;
    m->ents = v;
    m->max_end = mx;
    m->n = n;
    m->map_bytes = bytes;
}

static int symix_find(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    symix_find_t *f = arg;
    int first = f->seen++ == 0;
    uintptr_t lo = UINTPTR_MAX;
    int in = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD) continue;
        uintptr_t a = info->dlpi_addr + p->p_vaddr;
        if (a < lo) lo = a;
        if (f->addr >= a && f->addr < a + p->p_memsz) in = 1;
    }
    if (!in) return 0;
    f->subs = info->dlpi_subs;
    f->base = lo & ~(uintptr_t)(page_bytes() - 1);
    symix_mod_t *m = NULL;
    for (size_t i = 0; i < g_symix_n && !m; i++)
        if (g_symix[i].addr == info->dlpi_addr &&
            g_symix[i].name == info->dlpi_name)
            m = &g_symix[i];
    if (!m && g_symix_n < SYMIX_MODS) {
        m = &g_symix[g_symix_n++];
        memset(m, 0, sizeof *m);
        m->addr = info->dlpi_addr;
        m->name = info->dlpi_name;
        symix_build(m, info);
    }
    Dl_info *di = f->di;
    di->dli_fname = info->dlpi_name;
    if ((!di->dli_fname || !di->dli_fname[0]) && first)
        di->dli_fname = program_invocation_name;
    di->dli_fbase = (void *)f->base;
    di->dli_sname = NULL;
    di->dli_saddr = NULL;
    f->indexed = m && m->ents;
    if (m && m->n) {
        /* the last entry at or below addr, then back while an entry
         * before can still contain it */
        size_t lo_i = 0, hi_i = m->n;
        while (lo_i < hi_i) {
            size_t mid = (lo_i + hi_i) / 2;
            if (m->ents[mid].lo <= f->addr)
                lo_i = mid + 1;
            else
                hi_i = mid;
        }
        const symix_ent_t *best = NULL;
        for (size_t i = lo_i; i-- > 0 && m->max_end[i] > f->addr;) {
            const symix_ent_t *e = &m->ents[i];
            if (f->addr >= e->end) continue;
            if (best && e->lo < best->lo) break; /* highest address wins */
            best = e;                            /* then the first in order */
        }
        if (best) {
            di->dli_sname = m->strtab + best->name;
            di->dli_saddr = (void *)best->lo;
        }
    }
    f->found = 1;
    return 1;
}

int as_symix_lookup(uintptr_t addr, Dl_info *di, int *indexed)
{
    symix_find_t f;
    memset(&f, 0, sizeof f);
    f.addr = addr;
    f.di = di;
    dl_iterate_phdr(symix_find, &f);
    if (f.found && f.subs != g_symix_subs) {
        /* an object was unloaded: an entry may describe a stale map */
        g_symix_subs = f.subs;
        symix_reset();
        memset(&f, 0, sizeof f);
        f.addr = addr;
        f.di = di;
        dl_iterate_phdr(symix_find, &f);
    }
    *indexed = f.indexed;
    return f.found;
}
