/*
 * unit_run.h - the main() of every Check unit test: run one suite with
 * Check's normal output and turn its failures into the exit status ctest
 * reads.
 */
#ifndef SB_TEST_UNIT_RUN_H
#define SB_TEST_UNIT_RUN_H

#include <check.h>
#include <stdlib.h>

/* Runs s (the runner takes and frees it); EXIT_SUCCESS when every test
 * passed. */
static inline int unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
