// SPDX-License-Identifier: GPL-2.0
/* Time for the guest test programs (afx_test, xattack): one copy. */
#include <errno.h>
#include <time.h>

double now_s(void);
void msleep(int ms);

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void msleep(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
