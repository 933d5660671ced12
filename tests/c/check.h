/*
 * The assertion macro of the C test programs: counts passes, prints each failure with its place
 * and keeps going, so one run reports every broken contract. Each program prints
 * "<name>: N passed, M failed" at the end and exits non-zero when M > 0.
 */
#ifndef KY_TEST_CHECK_H
#define KY_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

#endif
