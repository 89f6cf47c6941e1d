/*
 * report-trace.c: the run's timeline as Trace Event Format JSON (the
 * format of chrome://tracing, which Perfetto opens too): one thread per
 * lane (a concurrency slot, or a test when the records name no slots),
 * one complete ("X") slice per attempt, from its dispatch to its end.
 */
#include <string.h>

#include "ht/ht.h"
#include "ht/report.h"

/* chrome://tracing's reserved colour names, by attempt status. */
static const char *const status_cname[HT_RS_N] = {
	"good", "bad", "good", "grey", "terrible", "yellow", "olive",
};

/* Writes ev (steals it) as one element of traceEvents. */
static void event(FILE *fp, json_t *ev, int *first)
{
	fputs(*first ? "\n" : ",\n", fp);
	*first = 0;
	json_dumpf(ev, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
}

static json_t *meta(const char *what, int tid, json_t *args)
{
	return json_pack("{s:s,s:s,s:i,s:i,s:o}", "name", what, "ph", "M", "pid", 1, "tid", tid, "args", args);
}

int ht_report_trace(const struct ht_report *r, FILE *fp)
{
	const char *provider = ht_json_str(r->summary, "provider", NULL);
	char *title = ht_xasprintf("hypertest%s%s%s%s", r->run_id ? " run " : "", r->run_id ? r->run_id : "",
				   provider ? " on " : "", provider ? provider : "");
	int first = 1, lane;
	json_t *other;
	char **names = ht_xcalloc((size_t)(r->lanes > 0 ? r->lanes : 1), sizeof(*names));
	size_t i;

	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", fp);
	event(fp, meta("process_name", 0, json_pack("{s:s}", "name", title)), &first);
	for (i = 0; i < r->n; i++) {
		const struct ht_report_test *t = &r->t[i];
		int j;

		for (j = 0; j < t->natt; j++) {
			const struct ht_report_attempt *a = &t->att[j];
			long long from = ht_report_attempt_from(a);
			json_t *args, *ev;

			if (a->lane < 0)
				continue;
			if (!r->by_slot && !names[a->lane])
				names[a->lane] = ht_xstrdup(t->name);
			args = json_pack("{s:s,s:i,s:s,s:I}", "test_id", t->test_id, "attempt", a->attempt,
					 "status", ht_rstatus_name(a->status), "duration_ms", (json_int_t)a->duration_ms);
			if (*a->message)
				ht_json_set_str(args, "message", a->message);
			if (from < a->start_ms)
				ht_json_set_int(args, "dispatch_to_start_ms", a->start_ms - from);
			if (a->slot >= 0)
				ht_json_set_int(args, "slot", a->slot);
			if (a->worker)
				ht_json_set_str(args, "worker", a->worker);
			if (a->request_id)
				ht_json_set_str(args, "request_id", a->request_id);
			if (a->cold >= 0)
				json_object_set_new(args, "cold", json_boolean(a->cold));
			if (a->infra)
				json_object_set_new(args, "infra", json_true());
			if (a->retry_reason)
				ht_json_set_str(args, "retry_reason", a->retry_reason);
			if (!a->exact)
				json_object_set_new(args, "estimated", json_true());
			ev = json_pack("{s:s,s:s,s:s,s:I,s:I,s:i,s:i,s:s,s:o}", "name", t->name,
				       "cat", ht_rstatus_name(a->status), "ph", "X",
				       "ts", (json_int_t)((from - r->t0_ms) * 1000),
				       "dur", (json_int_t)((a->end_ms - from) * 1000), "pid", 1, "tid", a->lane,
				       "cname", status_cname[a->status], "args", args);
			event(fp, ev, &first);
		}
	}
	for (lane = 0; lane < r->lanes; lane++) {
		char name[32];

		snprintf(name, sizeof(name), "slot %d", lane);
		event(fp, meta("thread_name", lane, json_pack("{s:s}", "name", names[lane] ? names[lane] : name)),
		      &first);
		event(fp, meta("thread_sort_index", lane, json_pack("{s:i}", "sort_index", lane)), &first);
		free(names[lane]);
	}
	free(names);
	other = json_pack("{s:s?,s:s?,s:I,s:b}", "run_id", r->run_id, "provider", provider,
			  "tests", (json_int_t)r->n, "lanes_are_slots", r->by_slot);
	fprintf(fp, "\n],\"otherData\":");
	json_dumpf(other, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(other);
	fputs("}\n", fp);
	free(title);
	return ferror(fp) ? -1 : 0;
}
