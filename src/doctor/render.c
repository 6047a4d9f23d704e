/* SPDX-License-Identifier: MIT */
/*
 * render: the diagnosis as text and as NDJSON (render.h).
 */
#include "doctor/render.h"

#include <ctype.h>
#include <string.h>

#include "report/json.h"

#define WRAP 100
#define INDENT 16

/* Print @text after a label in a column, wrapped at WRAP columns with the
 * continuation lines indented to the text's column. */
static void wrapped(FILE *f, const char *label, const char *text)
{
	size_t col = INDENT;
	const char *p = text;

	fprintf(f, "   %-*s", INDENT - 3, label);
	while (*p) {
		const char *w = p;
		size_t n;

		while (*w && !isspace((unsigned char)*w))
			w++;
		n = (size_t)(w - p);
		if (col > INDENT && col + 1 + n > WRAP) {
			fprintf(f, "\n%*s", INDENT, "");
			col = INDENT;
		} else if (col > INDENT) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, n, f);
		col += n;
		while (*w && isspace((unsigned char)*w))
			w++;
		p = w;
	}
	fputc('\n', f);
}

static void upper(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (char)toupper((unsigned char)s[i]);
	buf[i] = '\0';
}

static void source_line(FILE *f, const struct nd_dx_input *in, int s)
{
	const struct nd_dx_bench *b = &in->bench;

	fprintf(f, "  %-9s ", nd_dx_src_name(s));
	if (!in->have[s]) {
		fprintf(f, "not available%s%s\n", *in->missing[s] ? ": " : "", in->missing[s]);
		return;
	}
	switch (s) {
	case ND_DX_SRC_TCP:
		fprintf(f, "%llu connections (%llu stalled), %llu packets\n",
			(unsigned long long)in->tsum.conns, (unsigned long long)in->tsum.stalled,
			(unsigned long long)in->tsum.packets);
		break;
	case ND_DX_SRC_DROPS:
		fprintf(f, "%llu drops (all namespaces), %zu places", (unsigned long long)in->dsum.drops,
			in->ndrop);
		if (in->dsum.flows)
			fprintf(f, " (%zu flow rows%s)", in->nfdrop,
				in->dsum.flows_map_full || in->fdrop_over ? ", some drops without one" : "");
		if (in->dsum.events)
			fprintf(f, ", %zu drop events%s", in->ndropev,
				in->dsum.ev_lost || in->dropev_over ? " (some held back)" : "");
		fprintf(f, ", %llu TCP retransmissions traced, via %s\n",
			(unsigned long long)in->dsum.retrans, *in->dsum.attach ? in->dsum.attach : "?");
		break;
	case ND_DX_SRC_COUNTERS:
		fprintf(f, "%zu counters of interest moved or set\n", in->nctr);
		break;
	case ND_DX_SRC_BENCH:
		fprintf(f, "%s, %llu flows, %.1f s", b->mode, (unsigned long long)b->flows, b->duration_s);
		if (b->txn)
			fprintf(f, ", %llu transactions", (unsigned long long)b->txn);
		if (b->goodput_bps > 0)
			fprintf(f, ", %.1f Mbit/s", b->goodput_bps / 1e6);
		fputc('\n', f);
		break;
	}
}

void nd_dx_render_text(FILE *f, const struct nd_dx_input *in, const struct nd_dx_diag *d,
		       const struct nd_dx_run_info *ri)
{
	fprintf(f, "netdx doctor: ");
	if (ri->from)
		fprintf(f, "recordings in %s", ri->from);
	else
		fprintf(f, "%.1f s live%s", in->duration_s, ri->interrupted ? " (interrupted)" : "");
	for (size_t i = 0; i < in->ncap; i++)
		fprintf(f, "%s%s%s%s%s", i ? ", " : "; captured on ", in->cap[i].iface,
			*in->cap[i].netns ? " (netns " : "", in->cap[i].netns,
			*in->cap[i].netns ? ")" : "");
	for (size_t i = 0; i < in->nnetns; i++)
		fprintf(f, "%s%s", i ? ", " : "; namespaces ", in->netns[i]);
	fprintf(f, "\nsources:\n");
	for (int s = 0; s < ND_DX_NSRC; s++)
		if (in->have[s] || s != ND_DX_SRC_BENCH || *in->missing[s])
			source_line(f, in, s);
	fputc('\n', f);

	if (!d->n)
		fprintf(f, "no findings: nothing the sources saw points at a problem.\n");
	else
		fprintf(f, "findings (%zu, best first):\n", d->n);
	for (size_t i = 0; i < d->n; i++) {
		const struct nd_dx_finding *x = &d->f[i];
		char sev[16], agree[64] = "";

		upper(nd_dx_sev_name(x->sev), sev, sizeof(sev));
		fprintf(f, "\n%zu. %-8s %s at %s\n", i + 1, sev, nd_dx_mech_name(x->mech), x->place.text);
		wrapped(f, "symptom", x->symptom);
		for (unsigned e = 0; e < x->nev; e++) {
			char label[24];

			snprintf(label, sizeof(label), "%s%s", nd_dx_src_name(x->ev[e].src),
				 x->ev[e].agrees ? "" : " (-)");
			wrapped(f, label, x->ev[e].text);
		}
		for (int s = 0; s < ND_DX_NSRC; s++)
			if (x->agree & (1u << s))
				snprintf(agree + strlen(agree), sizeof(agree) - strlen(agree), "%s%s",
					 *agree ? ", " : "", nd_dx_src_name(s));
		wrapped(f, "agree", *agree ? agree : "(one source or none: not confirmed)");
		wrapped(f, "next step", x->next);
	}
	if (d->over)
		fprintf(f, "\n(%llu less important findings left out)\n", (unsigned long long)d->over);
	if (d->nnote) {
		fprintf(f, "\nnotes:\n");
		for (size_t i = 0; i < d->nnote; i++)
			fprintf(f, "  - %s\n", d->note[i]);
	}
}

/* ---- JSON ---- */

static void json_place(struct nd_json *j, const struct nd_dx_place *p)
{
	nd_json_obj_open(j, "place");
	nd_json_str(j, "kind", nd_dx_place_name(p->kind));
	nd_json_str(j, "netns", *p->netns ? p->netns : NULL);
	nd_json_str(j, "dev", *p->dev ? p->dev : NULL);
	nd_json_str(j, "qdisc", *p->qdisc ? p->qdisc : NULL);
	nd_json_str(j, "endpoint", *p->endpoint ? p->endpoint : NULL);
	nd_json_str(j, "flow", *p->flow ? p->flow : NULL);
	nd_json_str(j, "reason", *p->reason ? p->reason : NULL);
	nd_json_str(j, "location", *p->location ? p->location : NULL);
	nd_json_str(j, "text", p->text);
	nd_json_obj_close(j);
}

static void json_finding(struct nd_json *j, size_t rank, const struct nd_dx_finding *x)
{
	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", "finding");
	nd_json_u64(j, "rank", rank);
	nd_json_str(j, "severity", nd_dx_sev_name(x->sev));
	nd_json_str(j, "mechanism", nd_dx_mech_name(x->mech));
	json_place(j, &x->place);
	nd_json_str(j, "symptom", x->symptom);
	nd_json_arr_open(j, "evidence");
	for (unsigned e = 0; e < x->nev; e++) {
		nd_json_obj_open(j, NULL);
		nd_json_str(j, "source", nd_dx_src_name(x->ev[e].src));
		nd_json_bool(j, "agrees", x->ev[e].agrees);
		nd_json_str(j, "key", x->ev[e].key);
		nd_json_double(j, "value", x->ev[e].value, 4);
		if (*x->ev[e].key2) {
			nd_json_str(j, "key2", x->ev[e].key2);
			nd_json_double(j, "value2", x->ev[e].value2, 4);
		}
		nd_json_str(j, "text", x->ev[e].text);
		nd_json_obj_close(j);
	}
	nd_json_arr_close(j);
	nd_json_obj_open(j, "numbers");
	for (unsigned e = 0; e < x->nev; e++) {
		char k[64];

		snprintf(k, sizeof(k), "%s.%s", nd_dx_src_name(x->ev[e].src), x->ev[e].key);
		nd_json_double(j, k, x->ev[e].value, 4);
		if (*x->ev[e].key2) {
			snprintf(k, sizeof(k), "%s.%s", nd_dx_src_name(x->ev[e].src), x->ev[e].key2);
			nd_json_double(j, k, x->ev[e].value2, 4);
		}
	}
	nd_json_obj_close(j);
	nd_json_arr_open(j, "sources");
	for (int s = 0; s < ND_DX_NSRC; s++)
		if (x->agree & (1u << s))
			nd_json_str(j, NULL, nd_dx_src_name(s));
	nd_json_arr_close(j);
	nd_json_u64(j, "agree", nd_dx_agree_count(x));
	nd_json_str(j, "next_step", x->next);
	nd_json_double(j, "impact_s", x->impact, 3);
	nd_json_obj_close(j);
	nd_json_endline(j);
}

static void json_source(struct nd_json *j, const struct nd_dx_input *in, int s)
{
	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", "source");
	nd_json_str(j, "name", nd_dx_src_name(s));
	nd_json_bool(j, "available", in->have[s]);
	nd_json_str(j, "missing", in->have[s] || !*in->missing[s] ? NULL : in->missing[s]);
	nd_json_u64(j, "bad_lines", in->bad_lines[s]);
	switch (s) {
	case ND_DX_SRC_TCP:
		nd_json_u64(j, "conns", in->tsum.conns);
		nd_json_u64(j, "stalled", in->tsum.stalled);
		nd_json_u64(j, "kept", in->nconn);
		nd_json_u64(j, "packets", in->tsum.packets);
		nd_json_u64(j, "capture_drops", in->tsum.capture_drops);
		nd_json_obj_open(j, "stalls");
		for (int c = 0; c < ND_DX_NCAUSE; c++)
			nd_json_u64(j, nd_dx_cause_name(c), in->tsum.st[c].n);
		nd_json_obj_close(j);
		break;
	case ND_DX_SRC_DROPS:
		nd_json_u64(j, "drops", in->dsum.drops);
		nd_json_u64(j, "places", in->ndrop);
		nd_json_u64(j, "retrans", in->dsum.retrans);
		nd_json_u64(j, "map_full", in->dsum.map_full);
		nd_json_bool(j, "flows", in->dsum.flows);
		nd_json_u64(j, "flow_rows", in->nfdrop);
		nd_json_u64(j, "flows_map_full", in->dsum.flows_map_full + in->fdrop_over);
		nd_json_u64(j, "drop_events", in->ndropev);
		nd_json_u64(j, "drop_events_lost", in->dsum.ev_lost + in->dropev_over);
		nd_json_str(j, "attach", *in->dsum.attach ? in->dsum.attach : NULL);
		break;
	case ND_DX_SRC_COUNTERS:
		nd_json_u64(j, "counters", in->nctr);
		break;
	case ND_DX_SRC_BENCH:
		nd_json_str(j, "mode", *in->bench.mode ? in->bench.mode : NULL);
		nd_json_u64(j, "flows", in->bench.flows);
		nd_json_u64(j, "transactions", in->bench.txn);
		break;
	}
	nd_json_obj_close(j);
	nd_json_endline(j);
}

void nd_dx_render_json(FILE *f, const struct nd_dx_input *in, const struct nd_dx_diag *d,
		       const struct nd_dx_run_info *ri)
{
	struct nd_json j;

	nd_json_init(&j, f);
	nd_json_obj_open(&j, NULL);
	nd_json_str(&j, "type", "meta");
	nd_json_u64(&j, "schema", 1);
	nd_json_str(&j, "tool", "netdx");
	nd_json_str(&j, "version", ri->version);
	nd_json_str(&j, "command", "doctor");
	nd_json_double(&j, "duration_s", in->duration_s, 3);
	nd_json_str(&j, "from", ri->from);
	nd_json_bool(&j, "interrupted", ri->interrupted);
	nd_json_arr_open(&j, "netns");
	for (size_t i = 0; i < in->nnetns; i++)
		nd_json_str(&j, NULL, in->netns[i]);
	nd_json_arr_close(&j);
	nd_json_arr_open(&j, "captures");
	for (size_t i = 0; i < in->ncap; i++) {
		nd_json_obj_open(&j, NULL);
		nd_json_str(&j, "iface", in->cap[i].iface);
		nd_json_str(&j, "netns", *in->cap[i].netns ? in->cap[i].netns : NULL);
		nd_json_obj_close(&j);
	}
	nd_json_arr_close(&j);
	nd_json_obj_close(&j);
	nd_json_endline(&j);
	for (int s = 0; s < ND_DX_NSRC; s++)
		json_source(&j, in, s);
	for (size_t i = 0; i < d->n; i++)
		json_finding(&j, i + 1, &d->f[i]);
	for (size_t i = 0; i < d->nnote; i++) {
		nd_json_obj_open(&j, NULL);
		nd_json_str(&j, "type", "note");
		nd_json_str(&j, "text", d->note[i]);
		nd_json_obj_close(&j);
		nd_json_endline(&j);
	}
	nd_json_obj_open(&j, NULL);
	nd_json_str(&j, "type", "summary");
	nd_json_u64(&j, "findings", d->n);
	nd_json_u64(&j, "findings_over", d->over);
	nd_json_str(&j, "worst", d->n ? nd_dx_sev_name(nd_dx_worst(d)) : NULL);
	if (d->n) {
		nd_json_obj_open(&j, "top");
		nd_json_str(&j, "severity", nd_dx_sev_name(d->f[0].sev));
		nd_json_str(&j, "mechanism", nd_dx_mech_name(d->f[0].mech));
		nd_json_str(&j, "place", d->f[0].place.text);
		nd_json_obj_close(&j);
	} else {
		nd_json_null(&j, "top");
	}
	nd_json_obj_close(&j);
	nd_json_endline(&j);
}
