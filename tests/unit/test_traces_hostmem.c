/* test_traces_hostmem.c - reading the host's THP settings (a copy of the
 * sysfs directory in a scratch dir) and the recorder's parsers of
 * /proc/PID/smaps_rollup and /proc/PID/statm, on texts as the kernel
 * writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "traces/hostthp.h"
#include "traces/record/procmem.h"

static void test_thp_parse(void)
{
    char v[AS_THP_VALUE_MAX];
    const char *en = "always [madvise] never\n";
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_ENABLED, en, strlen(en), v), 0);
    CU_ASSERT_STRING_EQUAL(v, "madvise");
    const char *df = "always defer [defer+madvise] madvise never\n";
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_DEFRAG, df, strlen(df), v), 0);
    CU_ASSERT_STRING_EQUAL(v, "defer+madvise");
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_ENABLED, "always never\n", 13, v),
                    -1);
    CU_ASSERT_STRING_EQUAL(v, "unknown");
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_ENABLED, "[\x1b[2J]", 7, v), -1);
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_PAGES_TO_SCAN, "4096\n", 5, v), 0);
    CU_ASSERT_STRING_EQUAL(v, "4096");
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_MAX_PTES_NONE, "51x\n", 4, v), -1);
    CU_ASSERT_STRING_EQUAL(v, "unknown");
    CU_ASSERT_EQUAL(as_host_thp_parse(AS_THP_SCAN_SLEEP_MS, "", 0, v), -1);
}

/* A directory with `enabled` and one khugepaged file: the rest unknown. */
static void test_thp_read(void)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s", as_test_tmpfile("thp", ""));
    CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/enabled", dir);
    FILE *f = fopen(path, "w");
    fputs("[always] madvise never\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/khugepaged", dir);
    CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/khugepaged/max_ptes_none", dir);
    f = fopen(path, "w");
    fputs("64\n", f);
    fclose(f);
    char v[AS_THP_N][AS_THP_VALUE_MAX];
    as_host_thp_read(dir, v);
    CU_ASSERT_STRING_EQUAL(v[AS_THP_ENABLED], "always");
    CU_ASSERT_STRING_EQUAL(v[AS_THP_DEFRAG], "unknown");
    CU_ASSERT_STRING_EQUAL(v[AS_THP_MAX_PTES_NONE], "64");
    CU_ASSERT_STRING_EQUAL(v[AS_THP_SCAN_SLEEP_MS], "unknown");
    CU_ASSERT_STRING_EQUAL(v[AS_THP_PAGES_TO_SCAN], "unknown");
    CU_ASSERT_STRING_EQUAL(as_thp_meta_key[AS_THP_PAGES_TO_SCAN],
                           "host.thp.khugepaged.pages_to_scan");
    unlink(path);
    snprintf(path, sizeof path, "%s/khugepaged", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/enabled", dir);
    unlink(path);
    rmdir(dir);
}

static void test_procmem(void)
{
    const char *rollup =
        "55d4c0a00000-7ffc1b3f2000 ---p 00000000 00:00 0  [rollup]\n"
        "Rss:               12345 kB\n"
        "Pss:                9000 kB\n"
        "Pss_Anon:           8000 kB\n"
        "AnonHugePages:      4096 kB\n"
        "ShmemPmdMapped:        0 kB\n";
    uint64_t rss = 0, huge = 0;
    CU_ASSERT_EQUAL(
        as_procmem_parse_rollup(rollup, strlen(rollup), &rss, &huge),
        AS_SAMPLE_HAS_RSS | AS_SAMPLE_HAS_HUGE);
    CU_ASSERT_EQUAL(rss, 12345ull * 1024);
    CU_ASSERT_EQUAL(huge, 4096ull * 1024);
    /* no AnonHugePages line (an old kernel): RSS only */
    CU_ASSERT_EQUAL(as_procmem_parse_rollup(rollup, 60 + 28, &rss, &huge),
                    AS_SAMPLE_HAS_RSS);
    CU_ASSERT_EQUAL(as_procmem_parse_rollup("", 0, &rss, &huge), 0);
    const char *statm = "5580 1234 600 300 0 900 0\n";
    CU_ASSERT_EQUAL(as_procmem_parse_statm(statm, strlen(statm), 4096, &rss),
                    AS_SAMPLE_HAS_RSS);
    CU_ASSERT_EQUAL(rss, 1234ull * 4096);
    CU_ASSERT_EQUAL(as_procmem_parse_statm("x 1\n", 4, 4096, &rss), 0);
    CU_ASSERT_EQUAL(as_procmem_parse_statm("5580\n", 5, 4096, &rss), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"THP settings: choice and numeric files", test_thp_parse},
        {"THP settings: a directory with missing files", test_thp_read},
        {"smaps_rollup and statm", test_procmem},
        {NULL, NULL},
    };
    return as_test_main("traces_hostmem", tests);
}
