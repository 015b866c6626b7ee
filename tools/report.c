/* The text, JSON and CSV forms of a `hotcache load` report (see report.h). */
#include "tools/report.h"

#include <errno.h>
#include <string.h>

const char *const load_kind_name[K_COUNT] = {"read", "keystate", "write", "append"};

static const double quantiles[] = {0.5, 0.9, 0.99, 0.999};
static const char *const qname[] = {"p50", "p90", "p99", "p999"};
#define NQ 4

void report_fmt_ns(char *buf, size_t cap, double ns)
{
	if (ns < 1e3)
		snprintf(buf, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, cap, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, cap, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, cap, "%.2f s", ns / 1e9);
}

void report_fmt_bytes(char *buf, size_t cap, double b)
{
	static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned i = 0;
	while (b >= 1024 && i < 4) {
		b /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static double rate(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return a + b ? (double)a / (double)(a + b) : -1;
}

static void pct(char *buf, size_t cap, double r)
{
	if (r < 0)
		snprintf(buf, cap, "n/a");
	else
		snprintf(buf, cap, "%.2f%%", 100 * r);
}

static void phase_text(FILE *f, const struct load_report *r, const struct load_phase *p)
{
	char a[32], b[32], c[32], h1[16], h2[16];
	uint64_t total = 0;
	fprintf(f, "\nrun: %s%s, %.1f s%s, KELs of %.1f events on average at the start\n", p->mode,
	        strcmp(p->mode, "bypass") == 0 ? " (reads from RocksDB + unseal, key state by KEL "
	                                         "replay)" : " (hotcache)",
	        p->seconds, p->interrupted ? ", interrupted" : "", p->kel_len);
	/* time%: the kind's share of the workers' busy time (a closed loop: slow kinds
	 * throttle fast ones in the same thread) */
	double busy = 0;
	for (int k = 0; k < K_COUNT; k++)
		busy += hist_mean(&p->lat[k]) * (double)hist_count(&p->lat[k]);
	fprintf(f, "  %-9s %10s %11s %7s %6s %9s %9s %9s %9s %9s %9s\n", "kind", "ops", "ops/s",
	        "errors", "time%", "mean", "p50", "p90", "p99", "p99.9", "max");
	for (int k = 0; k < K_COUNT; k++) {
		total += p->ops[k];
		if (r->mix[k] == 0 && p->ops[k] == 0)
			continue;
		fprintf(f, "  %-9s %10llu %11.1f %7llu", load_kind_name[k],
		        (unsigned long long)p->ops[k], rate(p->ops[k], p->seconds),
		        (unsigned long long)p->errors[k]);
		fprintf(f, " %6.1f", busy > 0 ? 100.0 * hist_mean(&p->lat[k]) *
		                                    (double)hist_count(&p->lat[k]) / busy : 0.0);
		report_fmt_ns(a, sizeof a, hist_mean(&p->lat[k]));
		fprintf(f, " %9s", a);
		for (int q = 0; q < NQ; q++) {
			report_fmt_ns(a, sizeof a, (double)hist_percentile(&p->lat[k], quantiles[q]));
			fprintf(f, " %9s", a);
		}
		report_fmt_ns(a, sizeof a, (double)hist_max(&p->lat[k]));
		fprintf(f, " %9s\n", a);
	}
	fprintf(f, "  %-9s %10llu %11.1f\n", "all", (unsigned long long)total,
	        rate(total, p->seconds));
	pct(h1, sizeof h1, ratio(p->hits, p->misses));
	pct(h2, sizeof h2, ratio(p->ks_hits, p->ks_misses));
	fprintf(f, "  hit ratio: payload %s (%llu hits, %llu misses), key state %s (%llu hits, "
	           "%llu misses)%s\n", h1, (unsigned long long)p->hits,
	        (unsigned long long)p->misses, h2, (unsigned long long)p->ks_hits,
	        (unsigned long long)p->ks_misses,
	        strcmp(p->mode, "bypass") == 0 ? " [reads bypass the cache]" : "");
	fprintf(f, "  evictions: payload %llu, key state %llu; loads from RocksDB %llu\n",
	        (unsigned long long)p->evictions, (unsigned long long)p->ks_evictions,
	        (unsigned long long)p->loads);
	report_fmt_bytes(a, sizeof a, (double)r->memory_limit);
	report_fmt_bytes(b, sizeof b, (double)p->accounted_peak);
	report_fmt_bytes(c, sizeof c, (double)r->slack);
	fprintf(f, "  memory: limit %s, accounted peak %s (%.1f%% of the limit; allowed slack %s)",
	        a, b, r->memory_limit ? 100.0 * (double)p->accounted_peak / (double)r->memory_limit
	                              : 0.0, c);
	report_fmt_bytes(a, sizeof a, (double)p->rss_peak);
	report_fmt_bytes(b, sizeof b, (double)p->rss_start);
	fprintf(f, ", RSS peak %s (%s at the start)\n", a, b);
	const struct load_rocks *k = &p->rocks;
	if (!k->have) {
		fprintf(f, "  rocksdb: n/a\n");
	} else {
		report_fmt_bytes(a, sizeof a, (double)k->sst_bytes);
		report_fmt_bytes(b, sizeof b, (double)k->memtable_bytes);
		report_fmt_bytes(c, sizeof c, (double)k->block_cache_bytes);
		/* RocksDB prints counts from 10000 up as "14K": say when they are rounded */
		fprintf(f, "  rocksdb: ingest %.2f MB, WAL %s%llu writes in %s%llu syncs, "
		           "write stalls %.3f s (%.1f%%); at the end SST %s, memtables %s, "
		           "block cache %s\n",
		        k->ingest_mb, k->wal_writes >= 10000 ? "~" : "",
		        (unsigned long long)k->wal_writes, k->wal_syncs >= 10000 ? "~" : "",
		        (unsigned long long)k->wal_syncs, k->stall_s, k->stall_pct, a, b, c);
	}
	if (p->first_error[0])
		fprintf(f, "  first error: %s\n", p->first_error);
}

static double speedup(const struct load_report *r, int k, double *mean_c, double *mean_b)
{
	*mean_c = hist_mean(&r->run[0].lat[k]);
	*mean_b = hist_mean(&r->run[1].lat[k]);
	return *mean_c > 0 && *mean_b > 0 ? *mean_b / *mean_c : -1;
}

void report_text(FILE *f, const struct load_report *r)
{
	char a[32], b[32], c[32];
	fprintf(f, "\nhotcache load: %u thread%s, ", r->threads, r->threads == 1 ? "" : "s");
	if (r->ops_limit)
		fprintf(f, "%llu operations", (unsigned long long)r->ops_limit);
	if (r->seconds_limit > 0)
		fprintf(f, "%s%.1f s", r->ops_limit ? " or " : "", r->seconds_limit);
	fprintf(f, ", mix");
	for (int k = 0; k < K_COUNT; k++)
		fprintf(f, " %s=%u", load_kind_name[k], r->mix[k]);
	fprintf(f, ", payload reads Zipf %.2f via %s, seed %llu\n", r->zipf, r->read_api,
	        (unsigned long long)r->seed);
	report_fmt_bytes(a, sizeof a, (double)r->memory_limit);
	report_fmt_bytes(b, sizeof b, (double)r->max_entry);
	fprintf(f, "store %s, durability %s, memory limit %s, %u shards, max entry %s\n", r->store,
	        r->durability, a, r->shards, b);
	report_fmt_bytes(c, sizeof c, (double)r->preload_bytes);
	fprintf(f, "preload: %llu identifiers (%llu KEL events, signed Ed25519), %llu payloads "
	           "(%s, %s) in %.1f s\n",
	        (unsigned long long)r->ids, (unsigned long long)r->kel_events,
	        (unsigned long long)r->payloads, c, r->size_dist, r->preload_s);
	for (int i = 0; i < r->nruns; i++)
		phase_text(f, r, &r->run[i]);
	if (r->nruns == 2) {
		fprintf(f, "\nspeedup of the cache over the bypass, by kind (mean latency; "
		           "throughput):\n");
		for (int k = 0; k < K_COUNT; k++) {
			double mc, mb, s = speedup(r, k, &mc, &mb);
			if (s < 0)
				continue;
			report_fmt_ns(a, sizeof a, mc);
			report_fmt_ns(b, sizeof b, mb);
			double tc = rate(r->run[0].ops[k], r->run[0].seconds);
			double tb = rate(r->run[1].ops[k], r->run[1].seconds);
			double pc = (double)hist_percentile(&r->run[0].lat[k], 0.5);
			double pb = (double)hist_percentile(&r->run[1].lat[k], 0.5);
			fprintf(f, "  %-9s %9.1fx  (mean %s cached vs %s bypassed; at p50 %.1fx; "
			           "%.0f vs %.0f ops/s)\n", load_kind_name[k], s, a, b,
			        pc > 0 ? pb / pc : 0.0, tc, tb);
		}
		fprintf(f, "  (writes and appends run the same code in both runs: their ratio is how much "
		           "the store itself changed\n   between the runs (size, compactions, the disk);"
		           " the bypass replays KELs of %.1f events on "
		           "average at its start, %.1f in the cache run)\n",
		        r->run[1].kel_len, r->run[0].kel_len);
	}
}

/* ---- JSON ---- */

static void json_hist(FILE *f, const struct hist *h)
{
	fprintf(f, "{\"mean\":%.1f", hist_mean(h));
	for (int q = 0; q < NQ; q++)
		fprintf(f, ",\"%s\":%llu", qname[q], (unsigned long long)hist_percentile(h, quantiles[q]));
	fprintf(f, ",\"max\":%llu}", (unsigned long long)hist_max(h));
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_ratio(FILE *f, double x)
{
	if (x < 0)
		fprintf(f, "null");
	else
		fprintf(f, "%.6f", x);
}

static void json_phase(FILE *f, const struct load_report *r, const struct load_phase *p)
{
	uint64_t total = 0;
	fprintf(f, "{\"mode\":\"%s\",\"seconds\":%.3f,\"interrupted\":%s,\"kel_len\":%.2f,"
	           "\"ops\":{", p->mode, p->seconds, p->interrupted ? "true" : "false", p->kel_len);
	for (int k = 0; k < K_COUNT; k++) {
		total += p->ops[k];
		fprintf(f, "%s\"%s\":{\"count\":%llu,\"per_sec\":%.1f,\"errors\":%llu,"
		           "\"latency_ns\":", k ? "," : "", load_kind_name[k],
		        (unsigned long long)p->ops[k], rate(p->ops[k], p->seconds),
		        (unsigned long long)p->errors[k]);
		json_hist(f, &p->lat[k]);
		fputc('}', f);
	}
	fprintf(f, "},\"total\":{\"count\":%llu,\"per_sec\":%.1f},", (unsigned long long)total,
	        rate(total, p->seconds));
	fprintf(f, "\"hit_ratio\":{\"payload\":");
	json_ratio(f, ratio(p->hits, p->misses));
	fprintf(f, ",\"keystate\":");
	json_ratio(f, ratio(p->ks_hits, p->ks_misses));
	fprintf(f, "},\"hits\":%llu,\"misses\":%llu,\"keystate_hits\":%llu,\"keystate_misses\":%llu,"
	           "\"evictions\":%llu,\"keystate_evictions\":%llu,\"loads\":%llu,",
	        (unsigned long long)p->hits, (unsigned long long)p->misses,
	        (unsigned long long)p->ks_hits, (unsigned long long)p->ks_misses,
	        (unsigned long long)p->evictions, (unsigned long long)p->ks_evictions,
	        (unsigned long long)p->loads);
	fprintf(f, "\"memory\":{\"limit\":%llu,\"slack\":%llu,\"accounted_peak\":%llu,"
	           "\"rss_peak\":%llu,\"rss_start\":%llu},",
	        (unsigned long long)r->memory_limit, (unsigned long long)r->slack,
	        (unsigned long long)p->accounted_peak, (unsigned long long)p->rss_peak,
	        (unsigned long long)p->rss_start);
	const struct load_rocks *k = &p->rocks;
	if (k->have)
		fprintf(f, "\"rocksdb\":{\"ingest_mb\":%.3f,\"wal_writes\":%llu,"
		           "\"wal_syncs\":%llu,\"stall_seconds\":%.3f,\"stall_percent\":%.2f,"
		           "\"sst_bytes\":%llu,\"memtable_bytes\":%llu,\"block_cache_bytes\":%llu},",
		        k->ingest_mb, (unsigned long long)k->wal_writes,
		        (unsigned long long)k->wal_syncs, k->stall_s, k->stall_pct,
		        (unsigned long long)k->sst_bytes, (unsigned long long)k->memtable_bytes,
		        (unsigned long long)k->block_cache_bytes);
	else
		fprintf(f, "\"rocksdb\":null,");
	fprintf(f, "\"first_error\":");
	json_str(f, p->first_error);
	fprintf(f, ",\"series\":[");
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct load_sample *s = &p->samples[i];
		fprintf(f, "%s{\"t\":%.3f,\"dt\":%.3f", i ? "," : "", s->t, s->dt);
		for (int kk = 0; kk < K_COUNT; kk++)
			fprintf(f, ",\"%s\":%llu,\"%s_p99\":%llu", load_kind_name[kk],
			        (unsigned long long)s->ops[kk], load_kind_name[kk],
			        (unsigned long long)s->p99[kk]);
		fprintf(f, ",\"hit_ratio\":");
		json_ratio(f, s->hit_ratio);
		fprintf(f, ",\"accounted\":%llu,\"rss\":%llu}", (unsigned long long)s->accounted,
		        (unsigned long long)s->rss);
	}
	fprintf(f, "]}");
}

int report_json(const char *path, const struct load_report *r)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	/* schema_version: bumped whenever a field changes meaning or goes away (adding one
	 * does not bump it). 1: issue 12's first versioned report. */
	fprintf(f, "{\"schema_version\":%d,", LOAD_REPORT_SCHEMA);
	fprintf(f, "\"config\":{\"ids\":%llu,\"payloads\":%llu,\"threads\":%u,\"seconds\":%.3f,"
	           "\"ops\":%llu,\"seed\":%llu,\"zipf\":%.3f,\"read_api\":\"%s\",\"size_dist\":",
	        (unsigned long long)r->ids, (unsigned long long)r->payloads, r->threads,
	        r->seconds_limit, (unsigned long long)r->ops_limit, (unsigned long long)r->seed,
	        r->zipf, r->read_api);
	json_str(f, r->size_dist);
	fprintf(f, ",\"mix\":{");
	for (int k = 0; k < K_COUNT; k++)
		fprintf(f, "%s\"%s\":%u", k ? "," : "", load_kind_name[k], r->mix[k]);
	fprintf(f, "},\"durability\":\"%s\",\"store\":", r->durability);
	json_str(f, r->store);
	fprintf(f, ",\"memory_limit\":%llu,\"shards\":%u,\"max_entry\":%llu},",
	        (unsigned long long)r->memory_limit, r->shards, (unsigned long long)r->max_entry);
	fprintf(f, "\"preload\":{\"seconds\":%.3f,\"payload_bytes\":%llu,\"kel_events\":%llu},",
	        r->preload_s, (unsigned long long)r->preload_bytes,
	        (unsigned long long)r->kel_events);
	fprintf(f, "\"runs\":[");
	for (int i = 0; i < r->nruns; i++) {
		if (i)
			fputc(',', f);
		json_phase(f, r, &r->run[i]);
	}
	fprintf(f, "],\"speedup\":");
	if (r->nruns == 2) {
		fputc('{', f);
		int first = 1;
		for (int k = 0; k < K_COUNT; k++) {
			double mc, mb, s = speedup(r, k, &mc, &mb);
			if (s < 0)
				continue;
			fprintf(f, "%s\"%s\":%.3f", first ? "" : ",", load_kind_name[k], s);
			first = 0;
		}
		fputc('}', f);
	} else {
		fprintf(f, "null");
	}
	fprintf(f, "}\n");
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* ---- CSV: one row per run and kind ---- */

int report_csv(const char *path, const struct load_report *r)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "mode,kind,ops,ops_per_sec,errors,mean_ns,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,"
	           "payload_hit_ratio,keystate_hit_ratio,evictions,memory_limit,accounted_peak,"
	           "rss_peak,seconds,threads,durability\n");
	for (int i = 0; i < r->nruns; i++) {
		const struct load_phase *p = &r->run[i];
		for (int k = 0; k < K_COUNT; k++) {
			const struct hist *h = &p->lat[k];
			fprintf(f, "%s,%s,%llu,%.1f,%llu,%.1f", p->mode, load_kind_name[k],
			        (unsigned long long)p->ops[k], rate(p->ops[k], p->seconds),
			        (unsigned long long)p->errors[k], hist_mean(h));
			for (int q = 0; q < NQ; q++)
				fprintf(f, ",%llu", (unsigned long long)hist_percentile(h, quantiles[q]));
			double h1 = ratio(p->hits, p->misses), h2 = ratio(p->ks_hits, p->ks_misses);
			fprintf(f, ",%llu,", (unsigned long long)hist_max(h));
			if (h1 >= 0)
				fprintf(f, "%.6f", h1);
			fputc(',', f);
			if (h2 >= 0)
				fprintf(f, "%.6f", h2);
			fprintf(f, ",%llu,%llu,%llu,%llu,%.3f,%u,%s\n",
			        (unsigned long long)(p->evictions + p->ks_evictions),
			        (unsigned long long)r->memory_limit,
			        (unsigned long long)p->accounted_peak, (unsigned long long)p->rss_peak,
			        p->seconds, r->threads, r->durability);
		}
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}
