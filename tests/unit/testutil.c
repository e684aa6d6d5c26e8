/* testutil.c - CUnit harness shared by the unit-test executables. */
#include "testutil.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <unistd.h>

int as_test_main(const char *suite, const as_test_t *tests)
{
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    if (!s) return 2;
    for (const as_test_t *t = tests; t->name; t++)
        if (!CU_add_test(s, t->name, t->fn)) return 2;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || ran == 0) ? 1 : 0;
}

const char *as_test_tmpfile(const char *prefix, const char *suffix)
{
    static char buf[512];
    static unsigned n;
    snprintf(buf, sizeof buf, "%s-%ld-%u%s", prefix, (long)getpid(), n++,
             suffix ? suffix : "");
    return buf;
}

const char *as_test_srcpath(const char *rel)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", AS_SOURCE_DIR, rel);
    return buf;
}
