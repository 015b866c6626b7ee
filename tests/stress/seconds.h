/* How long a stress test runs: HC_STRESS_SECONDS (make test sets 3), else dflt. */
#ifndef HC_TESTS_SECONDS_H
#define HC_TESTS_SECONDS_H

#include <stdlib.h>

static inline double stress_seconds(double dflt)
{
	const char *s = getenv("HC_STRESS_SECONDS");
	double v = s != NULL ? atof(s) : 0;
	return v > 0 ? v : dflt;
}

#endif
