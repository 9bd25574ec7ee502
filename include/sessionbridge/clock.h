/*
 * clock.h - the one wall clock of sessionbridge, for the daemon, the CLI
 * and the store alike.
 *
 * It reads CLOCK_REALTIME precisely: time() reads the coarse clock, which
 * lags by up to a tick, so a credential an app signed a millisecond ago
 * looked future-dated (not_yet_valid) in the first milliseconds of each
 * second.
 */
#ifndef SESSIONBRIDGE_CLOCK_H
#define SESSIONBRIDGE_CLOCK_H

#include <stdint.h>

/* The current Unix time in seconds. */
int64_t sb_clock_now(void);

/* The current Unix time in milliseconds. */
int64_t sb_clock_now_ms(void);

#endif
