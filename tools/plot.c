/*
 * --plot FILE.png: two panels drawn by gnuplot (pngcairo, or png when cairo is absent).
 *   top     throughput per kind over time, one point per status sample (about 1 s), log
 *           scale since reads outnumber writes by orders of magnitude; with --compare the
 *           bypass run follows the cache run on the same time axis.
 *   bottom  latency by percentile per kind (x: latency, log; y: percentile on a "nines"
 *           scale, 1/(1-q), so the tail is as visible as the median); bypass dashed.
 * The data go to a temporary directory next to a script; gnuplot's exit status and the
 * first line of its complaints decide success.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/report.h"

static const char *const colour[K_COUNT] = {"#1f77b4", "#2ca02c", "#d62728", "#ff7f0e"};

int report_have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4096];
	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)n, n ? path : ".");
		if (access(buf, X_OK) == 0)
			return 1;
		path += n + (colon != NULL);
	}
	return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

/* t, then ops/s per kind, for every sample of every run; runs follow one another. */
static int write_series(const char *dir, const struct load_report *r, double *split)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/series.dat", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	double off = 0;
	for (int i = 0; i < r->nruns; i++) {
		const struct load_phase *p = &r->run[i];
		fprintf(f, "# %s\n", p->mode);
		for (size_t s = 0; s < p->nsamples; s++) {
			const struct load_sample *x = &p->samples[s];
			if (x->dt < 0.2)
				continue; /* a short last interval: its rate is noise */
			fprintf(f, "%.3f", off + x->t);
			for (int k = 0; k < K_COUNT; k++) {
				double v = x->dt > 0 ? (double)x->ops[k] / x->dt : 0;
				if (v > 0)
					fprintf(f, " %.1f", v);
				else
					fprintf(f, " NaN");
			}
			fputc('\n', f);
		}
		fprintf(f, "\n\n");
		if (i == 0)
			*split = p->seconds;
		off += p->seconds;
	}
	return fclose(f);
}

/* Latency (us) against 1/(1-q) for each non-empty bucket of run i, kind k. */
static int write_cdf(const char *dir, const struct load_phase *p, int i, int k)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/lat%d_%d.dat", dir, i, k);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	const struct hist *h = &p->lat[k];
	uint64_t total = 0, seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++)
		total += hist_bucket_count(h, b);
	for (unsigned b = 0; b < HIST_BUCKETS && total > 0; b++) {
		uint64_t n = hist_bucket_count(h, b);
		if (n == 0)
			continue;
		seen += n;
		double q = (double)seen / (double)total;
		if (q > 1.0 - 1.0 / (double)total)
			q = 1.0 - 1.0 / (double)total; /* the last point: finite on the nines scale */
		uint64_t hi = hist_bucket_high(b);
		if (hi > hist_max(h))
			hi = hist_max(h);
		fprintf(f, "%.4f %.6g\n", (double)hi / 1e3, total > 1 ? 1.0 / (1.0 - q) : 1.0);
	}
	return fclose(f);
}

static void script_series(FILE *s, const char *dir, const struct load_report *r, double split)
{
	fprintf(s, "set title 'throughput by kind (1 s samples)'\n"
	           "set xlabel 'seconds'\nset ylabel 'operations/s'\nset logscale y\n"
	           "set format y '%%.0s%%c'\nset grid\nset key outside right top\n"
	           "set xrange [0:*]\n");
	if (r->nruns == 2) {
		fprintf(s, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead dt 2 lc 'black'\n",
		        split, split);
		fprintf(s, "set label 'cache' at graph 0.02, graph 0.95\n");
		fprintf(s, "set label 'bypass' at %.3f, graph 0.95 offset 1,0\n", split);
	}
	fprintf(s, "plot ");
	int first = 1;
	for (int k = 0; k < K_COUNT; k++) {
		if (r->mix[k] == 0)
			continue;
		fprintf(s, "%s'%s/series.dat' index 0:%d using 1:%d with linespoints pt 7 ps 0.5 "
		           "lw 2 lc rgb '%s' title '%s'", first ? "" : ", ", dir, r->nruns - 1, k + 2,
		        colour[k], load_kind_name[k]);
		first = 0;
	}
	fprintf(s, "\nunset arrow\nunset label\nunset logscale\nunset format\n");
}

static void script_latency(FILE *s, const char *dir, const struct load_report *r)
{
	fprintf(s, "set title 'latency by percentile%s'\n",
	        r->nruns == 2 ? " (solid: cache; dashed with circles: bypass)" : "");
	fprintf(s, "set xlabel 'latency (us)'\nset ylabel 'percentile'\nset logscale xy\n"
	           "set xrange [*:*]\nset yrange [1:*]\nset format x '%%g'\n"
	           /* tic labels are formats themselves: %%%% prints one % */
	           "set ytics ('0%%%%' 1, '50%%%%' 2, '90%%%%' 10, '99%%%%' 100, '99.9%%%%' 1000, "
	           "'99.99%%%%' 10000, '99.999%%%%' 100000, '99.9999%%%%' 1000000)\n"
	           "set grid\nset key outside right top\n");
	fprintf(s, "plot ");
	int first = 1;
	for (int i = 0; i < r->nruns; i++)
		for (int k = 0; k < K_COUNT; k++) {
			if (r->run[i].ops[k] == 0)
				continue;
			/* dashes restart on every short segment of a dense curve, so the bypass
			 * curves carry open circles as well */
			fprintf(s, "%s'%s/lat%d_%d.dat' using 1:2 with %s lc rgb '%s' title '%s%s'",
			        first ? "" : ", ", dir, i, k,
			        i == 0 ? "steps lw 2" : "linespoints dt 2 lw 1.5 pt 6 ps 0.8 pi 12",
			        colour[k], load_kind_name[k],
			        i == 0 ? (r->nruns == 2 ? " cache" : "") : " bypass");
			first = 0;
		}
	fputc('\n', s);
}

static int run_gnuplot(const char *script, const char *errfile, char *err, size_t errlen)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>'%s'", script, errfile);
	int st = system(cmd);
	if (st == 0)
		return 0;
	FILE *f = fopen(errfile, "r");
	char line[256] = "";
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strchr(line, '^') == NULL && strspn(line, " \t\n") != strlen(line))
			break;
	if (f != NULL)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(err, errlen, "gnuplot failed (status %d)%s%s", WIFEXITED(st) ? WEXITSTATUS(st) : st,
	         line[0] ? ": " : "", line);
	return -1;
}

int report_plot(const char *path, const struct load_report *r, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], script[600], errfile[600];
	double split = 0;
	if (strchr(path, '\'') != NULL) {
		snprintf(err, errlen, "the file name may not contain a quote");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/hotcache-plot-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(errno));
		return -1;
	}
	int rc = write_series(dir, r, &split);
	for (int i = 0; i < r->nruns && rc == 0; i++)
		for (int k = 0; k < K_COUNT && rc == 0; k++)
			rc = write_cdf(dir, &r->run[i], i, k);
	snprintf(script, sizeof(script), "%s/plot.gp", dir);
	snprintf(errfile, sizeof(errfile), "%s/gnuplot.err", dir);
	FILE *s = rc == 0 ? fopen(script, "w") : NULL;
	if (s == NULL) {
		snprintf(err, errlen, "cannot write the plot data in %s: %s", dir, strerror(errno));
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		return -1;
	}
	fprintf(s, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
	           "  set terminal pngcairo size 1400,1000 font 'sans,11' noenhanced\n"
	           "} else {\n  set terminal png size 1400,1000 noenhanced\n}\n");
	fprintf(s, "set output '%s'\n", path);
	fprintf(s, "set multiplot layout 2,1 title 'hotcache load: %u threads, durability %s, "
	           "%llu payloads, %llu identifiers'\n", r->threads, r->durability,
	        (unsigned long long)r->payloads, (unsigned long long)r->ids);
	script_series(s, dir, r, split);
	script_latency(s, dir, r);
	fprintf(s, "unset multiplot\n");
	fclose(s);
	rc = run_gnuplot(script, errfile, err, errlen);
	if (getenv("HC_PLOT_KEEP") == NULL) /* set it to look at the data and script */
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc;
}
