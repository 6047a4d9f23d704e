/* SPDX-License-Identifier: MIT */
#include "report/conn_report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void nd_cw_init(struct nd_conn_writer *w, enum nd_fmt fmt, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->f = f;
	nd_json_init(&w->j, f);
}

void nd_cw_defer_table(struct nd_conn_writer *w)
{
	FILE *t;

	if (w->fmt != ND_FMT_TEXT || w->out)
		return;
	t = tmpfile();
	if (!t)
		return;
	w->out = w->f;
	w->f = t;
}

char *nd_endpoint_str(const struct nd_flow_key *k, int side, char *buf, size_t len)
{
	char a[64];

	nd_addr_str(side ? k->b : k->a, k->ip_version, a, sizeof(a));
	if (k->ip_version == 6)
		snprintf(buf, len, "[%s]:%u", a, side ? k->pb : k->pa);
	else
		snprintf(buf, len, "%s:%u", a, side ? k->pb : k->pa);
	return buf;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

void nd_cw_meta(struct nd_conn_writer *w, const char *version, const char *command)
{
	w->version = version;
	w->command = command;
}

static void meta_line(struct nd_conn_writer *w)
{
	struct nd_json *j = &w->j;

	if (w->fmt != ND_FMT_JSON || w->meta_done || !w->version)
		return;
	w->meta_done = true;
	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", "meta");
	nd_json_u64(j, "schema", ND_SCHEMA_VERSION);
	nd_json_str(j, "tool", "netdx");
	nd_json_str(j, "version", w->version);
	nd_json_str(j, "command", w->command);
	nd_json_obj_close(j);
	nd_json_endline(j);
}

/* ---- JSON ---- */

static void json_limits(struct nd_json *j, const struct nd_conn *c, int side,
			const struct nd_lim_result *r);

static const char *side_name(const struct nd_conn *c, int side)
{
	return side == c->client ? "c2s" : "s2c";
}

static void json_dir(struct nd_json *j, const char *name, const struct nd_conn *c, int side,
		     const struct nd_lim_result *r)
{
	const struct nd_dir *d = &c->dir[side];
	uint32_t wmin = 0, wmax = 0;
	bool wscaled = false, ws_lb = false;
	int ws;

	nd_json_obj_open(j, name);
	nd_json_u64(j, "pkts", d->pkts);
	nd_json_u64(j, "bytes", d->bytes);
	nd_json_u64(j, "payload_bytes", d->payload_bytes);
	nd_json_u64(j, "syn", d->syn);
	nd_json_u64(j, "fin", d->fin);
	nd_json_u64(j, "rst", d->rst);
	if (d->has_mss)
		nd_json_u64(j, "mss", d->mss);
	else
		nd_json_null(j, "mss");
	ws = nd_infer_wscale(d, &ws_lb);
	if (d->has_wscale)
		nd_json_u64(j, "wscale", d->wscale);
	else if (ws >= 0)
		nd_json_u64(j, "wscale", (uint64_t)ws);
	else
		nd_json_null(j, "wscale");
	nd_json_bool(j, "wscale_inferred", !d->has_wscale && ws >= 0);
	if (!d->has_wscale && ws >= 0 && ws_lb)
		nd_json_bool(j, "wscale_lower_bound", true);
	if (d->syn_seen) {
		nd_json_bool(j, "sack_perm", d->sack_perm);
		nd_json_bool(j, "ts_opt", d->ts_on_syn);
	} else {
		nd_json_null(j, "sack_perm");
		nd_json_null(j, "ts_opt");
	}
	nd_json_u64(j, "ts_pkts", d->ts_pkts);
	nd_json_u64(j, "sack_pkts", d->sack_pkts);
	nd_json_u64(j, "bad_opt_pkts", d->bad_opts);
	nd_json_u64(j, "malformed_pkts", d->malformed);
	if (d->hs_rtt_ns >= 0)
		nd_json_double(j, "handshake_rtt_us", (double)d->hs_rtt_ns / 1e3, 3);
	else
		nd_json_null(j, "handshake_rtt_us");
	/* From the TCP inference engine (src/tcp/infer.h has the rules). */
	nd_json_u64(j, "retrans_pkts", d->inf.retrans_pkts);
	nd_json_u64(j, "fast_retrans", d->inf.fast_retrans);
	nd_json_u64(j, "rto_retrans", d->inf.rto_retrans);
	nd_json_u64(j, "spurious_retrans", d->inf.spurious_retrans);
	nd_json_u64(j, "syn_retrans", d->inf.syn_retrans);
	nd_json_u64(j, "dupacks", d->inf.dupacks);
	nd_json_u64(j, "zero_window", d->inf.zero_window);
	nd_json_u64(j, "zero_window_probes", d->inf.zero_window_probes);
	nd_json_u64(j, "keep_alives", d->inf.keep_alives);
	nd_json_u64(j, "out_of_order", d->inf.out_of_order);
	nd_json_u64(j, "out_of_order_retrans", d->inf.out_of_order_retrans);
	nd_json_u64(j, "dsack", d->inf.dsack);
	nd_json_u64(j, "duplicate_frames", d->inf.dup_frames);
	nd_json_obj_open(j, "capture_loss");
	nd_json_u64(j, "bytes", d->inf.capture_loss_bytes);
	nd_json_u64(j, "holes", d->inf.capture_loss_events);
	nd_json_obj_close(j);
	if (nd_infer_window(d, &wmin, &wmax, &wscaled)) {
		nd_json_obj_open(j, "window");
		nd_json_u64(j, "min", wmin);
		nd_json_u64(j, "max", wmax);
		nd_json_bool(j, "scaled", wscaled);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "window");
	}
	if (d->inf.rtt_n) {
		nd_json_obj_open(j, "rtt_us");
		nd_json_u64(j, "min", d->inf.rtt_min_us);
		nd_json_u64(j, "p50", nd_infer_rtt_p50(&d->inf));
		nd_json_u64(j, "max", d->inf.rtt_max_us);
		nd_json_u64(j, "samples", d->inf.rtt_n);
		nd_json_u64(j, "ts_samples", d->inf.rtt_ts_samples);
		nd_json_u64(j, "untracked", d->inf.rtt_untracked);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "rtt_us");
	}
	json_limits(j, c, side, r);
	nd_json_obj_close(j);
}

/* What limits the direction, its congestion window, the receiver's delayed
 * ACKs and the sender's behaviour (src/tcp/limits.h has the rules). */
static void json_limits(struct nd_json *j, const struct nd_conn *c, int side,
			const struct nd_lim_result *res)
{
	const struct nd_lim *l = &c->dir[side].inf.lim;
	const struct nd_lim_result r = *res;

	if (r.data) {
		nd_json_obj_open(j, "limits");
		nd_json_double(j, "sender", r.frac[0], 4);
		nd_json_double(j, "receiver", r.frac[1], 4);
		nd_json_double(j, "network", r.frac[2], 4);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "limits");
	}
	nd_json_str(j, "verdict", r.verdict);
	nd_json_double(j, "transfer_s", r.transfer_s, 6);
	nd_json_obj_open(j, "flight_bytes");
	nd_json_double(j, "mean", r.flight_mean, 0);
	nd_json_u64(j, "max", r.flight_max);
	nd_json_obj_close(j);
	if (l->cwnd_init) {
		nd_json_obj_open(j, "cwnd_est_bytes");
		nd_json_double(j, "mean", r.cwnd_mean, 0);
		nd_json_u64(j, "max", r.cwnd_max);
		nd_json_u64(j, "final", r.cwnd_final);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "cwnd_est_bytes");
	}
	nd_json_obj_open(j, "delayed_acks");
	nd_json_u64(j, "count", r.delack_n);
	nd_json_u64(j, "added_us", r.delack_added_us);
	nd_json_double(j, "share", r.delack_share, 4);
	nd_json_obj_close(j);
	nd_json_obj_open(j, "sender");
	nd_json_obj_open(j, "reaction_us");
	if (r.react_n > 4)
		nd_json_u64(j, "p50", r.react_p50_us);
	else
		nd_json_null(j, "p50");         /* the histogram starts at the 5th */
	nd_json_double(j, "mean", r.react_mean_us, 1);
	nd_json_u64(j, "max", r.react_max_us);
	nd_json_u64(j, "samples", r.react_n);
	nd_json_obj_close(j);
	nd_json_u64(j, "small_segments", r.small_segs);
	nd_json_u64(j, "idle_gaps", r.idle_gaps);
	nd_json_double(j, "idle_s", r.idle_s, 6);
	nd_json_obj_close(j);
	if (c->timeline) {
		nd_json_arr_open(j, "timeline");
		for (uint32_t i = 0; l->tl && i < l->tl->n; i++) {
			nd_json_arr_open(j, NULL);
			nd_json_double(j, NULL, secs(l->tl->run[i].start), 6);
			nd_json_double(j, NULL, secs(l->tl->run[i].end), 6);
			nd_json_str(j, NULL, nd_lim_label_name(l->tl->run[i].label));
			nd_json_arr_close(j);
		}
		nd_json_arr_close(j);
		nd_json_u64(j, "timeline_dropped", l->tl ? l->tl->dropped : 0);
	}
}


static void json_stalls_txn(struct nd_json *j, const struct nd_conn *c)
{
	const struct nd_lim_conn *lc = c->lc;

	nd_json_arr_open(j, "stalls");
	for (uint32_t i = 0; lc && i < lc->nstalls; i++) {
		const struct nd_stall *st = &lc->stall[i];
		nd_json_obj_open(j, NULL);
		nd_json_str(j, "dir", side_name(c, st->side));
		nd_json_str(j, "cause", nd_stall_cause_name(st->cause));
		nd_json_double(j, "start", secs(st->start), 6);
		nd_json_double(j, "duration_s", secs(st->dur), 6);
		nd_json_u64(j, "retries", st->retries);
		if (st->txn_lat) {
			nd_json_obj_open(j, "txn");
			nd_json_double(j, "start", secs(st->txn_start), 6);
			nd_json_u64(j, "latency_us", st->txn_lat / 1000);
			nd_json_obj_close(j);
		} else {
			nd_json_null(j, "txn");
		}
		nd_json_obj_close(j);
	}
	nd_json_arr_close(j);
	nd_json_u64(j, "stalls_dropped", lc ? lc->stalls_dropped : 0);
	if (!lc || !lc->txn_n) {
		nd_json_null(j, "txn");
		return;
	}
	nd_json_obj_open(j, "txn");
	nd_json_u64(j, "count", lc->txn_n);
	nd_json_obj_open(j, "latency_us");
	nd_json_u64(j, "p50", nd_lim_txn_quantile(lc, 0.5));
	nd_json_u64(j, "p99", nd_lim_txn_quantile(lc, 0.99));
	nd_json_u64(j, "p99.9", nd_lim_txn_quantile(lc, 0.999));
	nd_json_u64(j, "max", lc->txn_max_us);
	nd_json_obj_close(j);
	nd_json_arr_open(j, "slow");
	for (uint32_t i = 0; i < lc->nslow; i++) {
		int k = nd_lim_stall_for(lc, lc->slow[i].start, lc->slow[i].lat_ns);
		nd_json_obj_open(j, NULL);
		nd_json_double(j, "start", secs(lc->slow[i].start), 6);
		nd_json_u64(j, "latency_us", lc->slow[i].lat_ns / 1000);
		if (k >= 0)
			nd_json_u64(j, "stall", (uint64_t)k);
		else
			nd_json_null(j, "stall");
		nd_json_obj_close(j);
	}
	nd_json_arr_close(j);
	nd_json_obj_close(j);
}

static void json_conn(struct nd_conn_writer *w, const struct nd_conn *c, bool snapshot,
		      const struct nd_lim_result r[2])
{
	struct nd_json *j = &w->j;
	const struct nd_dir *cd = &c->dir[c->client], *sd = &c->dir[!c->client];
	char buf[80];

	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", "conn");
	nd_json_u64(j, "id", c->id);
	nd_json_str(j, "client", nd_endpoint_str(&c->key, c->client, buf, sizeof(buf)));
	nd_json_str(j, "server", nd_endpoint_str(&c->key, !c->client, buf, sizeof(buf)));
	nd_json_str(j, "client_by", nd_client_by_name(c->client_by));
	nd_json_u64(j, "ip_version", c->key.ip_version);
	if (c->key.tunnel) {
		nd_json_obj_open(j, "tunnel");
		nd_json_str(j, "type", nd_tunnel_name((enum nd_tunnel)c->key.tunnel));
		nd_json_u64(j, "id", c->key.tunnel_id);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "tunnel");
	}
	nd_json_double(j, "first_ts", secs(c->first_ts), 6);
	nd_json_double(j, "last_ts", secs(c->last_ts), 6);
	nd_json_double(j, "duration_s", secs(c->last_ts - c->first_ts), 6);
	nd_json_str(j, "state", nd_conn_state_name(c->state));
	if (snapshot) {
		nd_json_bool(j, "snapshot", true);
	} else {
		nd_json_str(j, "end", nd_conn_end_name(c->end));
		nd_json_bool(j, "evicted", c->end == ND_END_EVICTED);
	}
	if (cd->hs_rtt_ns >= 0 && sd->hs_rtt_ns >= 0)
		nd_json_double(j, "handshake_rtt_us", (double)(cd->hs_rtt_ns + sd->hs_rtt_ns) / 1e3, 3);
	else
		nd_json_null(j, "handshake_rtt_us");
	json_dir(j, "c2s", c, c->client, &r[0]);
	json_dir(j, "s2c", c, !c->client, &r[1]);
	json_stalls_txn(j, c);
	nd_json_obj_close(j);
	nd_json_endline(j);
}

/* ---- CSV ---- */

static const char csv_header[] =
	"id,client,server,client_by,ip_version,tunnel,tunnel_id,first_ts,last_ts,duration_s,"
	"state,end,snapshot,handshake_rtt_us,"
	"c2s_pkts,c2s_bytes,c2s_payload_bytes,c2s_syn,c2s_fin,c2s_rst,c2s_mss,c2s_wscale,"
	"c2s_sack_perm,c2s_ts_opt,c2s_handshake_rtt_us,"
	"s2c_pkts,s2c_bytes,s2c_payload_bytes,s2c_syn,s2c_fin,s2c_rst,s2c_mss,s2c_wscale,"
	"s2c_sack_perm,s2c_ts_opt,s2c_handshake_rtt_us,"
	"c2s_retrans,c2s_fast_retrans,c2s_rto_retrans,c2s_rtt_p50_us,c2s_verdict,c2s_sender,c2s_receiver,c2s_network,"
	"s2c_retrans,s2c_fast_retrans,s2c_rto_retrans,s2c_rtt_p50_us,s2c_verdict,s2c_sender,s2c_receiver,s2c_network,"
	"stalls,stall_s,txn,txn_p50_us,txn_p99_us,txn_max_us\n";

static void csv_infer(FILE *f, const struct nd_conn *c, int side, const struct nd_lim_result *res)
{
	const struct nd_infer_dir *d = &c->dir[side].inf;
	const struct nd_lim_result r = *res;

	fprintf(f, ",%u,%u,%u", d->retrans_pkts, d->fast_retrans, d->rto_retrans);
	if (d->rtt_n)
		fprintf(f, ",%u", nd_infer_rtt_p50(d));
	else
		fputs(",", f);
	if (r.data)
		fprintf(f, ",%s,%.4f,%.4f,%.4f", r.verdict, r.frac[0], r.frac[1], r.frac[2]);
	else
		fprintf(f, ",%s,,,", r.verdict);
}

static void csv_opt_u(FILE *f, bool has, unsigned v)
{
	if (has)
		fprintf(f, ",%u", v);
	else
		fputs(",", f);
}

static void csv_rtt(FILE *f, int64_t ns)
{
	if (ns >= 0)
		fprintf(f, ",%.3f", (double)ns / 1e3);
	else
		fputs(",", f);
}

static void csv_dir(FILE *f, const struct nd_dir *d)
{
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,%u,%u", d->pkts, d->bytes,
		d->payload_bytes, d->syn, d->fin, d->rst);
	csv_opt_u(f, d->has_mss, d->mss);
	csv_opt_u(f, d->has_wscale, d->wscale);
	csv_opt_u(f, d->syn_seen, d->sack_perm);
	csv_opt_u(f, d->syn_seen, d->ts_on_syn);
	csv_rtt(f, d->hs_rtt_ns);
}

static void csv_conn(struct nd_conn_writer *w, const struct nd_conn *c, bool snapshot,
		     const struct nd_lim_result r[2])
{
	const struct nd_dir *cd = &c->dir[c->client], *sd = &c->dir[!c->client];
	char cl[80], sv[80];

	if (!w->header_done) {
		fputs(csv_header, w->f);
		w->header_done = true;
	}
	fprintf(w->f, "%" PRIu64 ",%s,%s,%s,%u,%s,%u,%.6f,%.6f,%.6f,%s,%s,%d", c->id,
		nd_endpoint_str(&c->key, c->client, cl, sizeof(cl)),
		nd_endpoint_str(&c->key, !c->client, sv, sizeof(sv)),
		nd_client_by_name(c->client_by), c->key.ip_version,
		nd_tunnel_name((enum nd_tunnel)c->key.tunnel), c->key.tunnel_id, secs(c->first_ts),
		secs(c->last_ts), secs(c->last_ts - c->first_ts), nd_conn_state_name(c->state),
		snapshot ? "" : nd_conn_end_name(c->end), snapshot);
	csv_rtt(w->f, cd->hs_rtt_ns >= 0 && sd->hs_rtt_ns >= 0 ? cd->hs_rtt_ns + sd->hs_rtt_ns : -1);
	csv_dir(w->f, cd);
	csv_dir(w->f, sd);
	csv_infer(w->f, c, c->client, &r[0]);
	csv_infer(w->f, c, !c->client, &r[1]);
	{
		const struct nd_lim_conn *lc = c->lc;
		double st = 0;

		for (uint32_t i = 0; lc && i < lc->nstalls; i++)
			st += secs(lc->stall[i].dur);
		fprintf(w->f, ",%u,%.6f", lc ? lc->nstalls + lc->stalls_dropped : 0, st);
		if (lc && lc->txn_n)
			fprintf(w->f, ",%u,%u,%u,%u", lc->txn_n, nd_lim_txn_quantile(lc, 0.5),
				nd_lim_txn_quantile(lc, 0.99), lc->txn_max_us);
		else
			fputs(",0,,,", w->f);
	}
	fputc('\n', w->f);
}

/* ---- text ---- */

static char *human(uint64_t v, char *buf, size_t len)
{
	if (v < 10000)
		snprintf(buf, len, "%" PRIu64, v);
	else if (v < 10000000)
		snprintf(buf, len, "%.1fk", (double)v / 1e3);
	else if (v < 10000000000ull)
		snprintf(buf, len, "%.1fM", (double)v / 1e6);
	else
		snprintf(buf, len, "%.1fG", (double)v / 1e9);
	return buf;
}

static char *pair_opt(bool ha, unsigned a, bool hb, unsigned b, char *buf, size_t len)
{
	char x[16], y[16];

	snprintf(x, sizeof(x), ha ? "%u" : "-", a);
	snprintf(y, sizeof(y), hb ? "%u" : "-", b);
	snprintf(buf, len, "%s/%s", x, y);
	return buf;
}

/* "ST" for SACK-permitted and timestamps on a side's SYN, "-" for none,
 * "?" when that side's SYN was not seen. */
static const char *syn_opts(const struct nd_dir *d)
{
	if (!d->syn_seen)
		return "?";
	if (d->sack_perm && d->ts_on_syn)
		return "ST";
	if (d->sack_perm)
		return "S";
	return d->ts_on_syn ? "T" : "-";
}

/* A side's window scale: from its SYN ("7"), inferred ("~7", or ">=7" when
 * only a lower bound is known), or unknown ("-"). */
static void ws_text(const struct nd_dir *d, char *buf, size_t len)
{
	bool lb = false;
	int ws;

	if (d->has_wscale) {
		snprintf(buf, len, "%u", d->wscale);
		return;
	}
	ws = nd_infer_wscale(d, &lb);
	if (ws >= 0)
		snprintf(buf, len, "%s%d", lb ? ">=" : "~", ws);
	else
		snprintf(buf, len, "-");
}

static void text_conn(struct nd_conn_writer *w, const struct nd_conn *c, bool snapshot,
		      const struct nd_lim_result r[2])
{
	const struct nd_dir *cd = &c->dir[c->client], *sd = &c->dir[!c->client];
	char cl[80], sv[80], pk[64], pl[64], a[24], b[24], mss[40], ws[64], rtt[32], note[64];
	char start[32], opts[16];
	time_t sec = (time_t)(c->first_ts / 1000000000u);
	struct tm tm;

	if (!w->header_done) {
		fprintf(w->f, "%-12s %-28s %-28s %-11s %9s %15s %15s %11s %7s %5s %9s %7s %6s %6s  %s\n",
			"START(UTC)", "CLIENT", "SERVER", "STATE", "DUR(s)", "PKTS c>s/s>c", "DATA c>s/s>c",
			"MSS c/s", "WS", "OPTS", "HS-RTT", "LIMIT", "RETX", "STALLS", "NOTE");
		w->header_done = true;
	}
	gmtime_r(&sec, &tm);
	snprintf(start, sizeof(start), "%02d:%02d:%02d.%03u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(c->first_ts % 1000000000u / 1000000u));
	snprintf(pk, sizeof(pk), "%s/%s", human(cd->pkts, a, sizeof(a)), human(sd->pkts, b, sizeof(b)));
	snprintf(pl, sizeof(pl), "%s/%s", human(cd->payload_bytes, a, sizeof(a)),
		 human(sd->payload_bytes, b, sizeof(b)));
	pair_opt(cd->has_mss, cd->mss, sd->has_mss, sd->mss, mss, sizeof(mss));
	ws_text(cd, a, sizeof(a));
	ws_text(sd, b, sizeof(b));
	snprintf(ws, sizeof(ws), "%s/%s", a, b);
	snprintf(opts, sizeof(opts), "%s/%s", syn_opts(cd), syn_opts(sd));
	if (cd->hs_rtt_ns >= 0 && sd->hs_rtt_ns >= 0)
		snprintf(rtt, sizeof(rtt), "%.3fms", (double)(cd->hs_rtt_ns + sd->hs_rtt_ns) / 1e6);
	else
		snprintf(rtt, sizeof(rtt), "-");
	note[0] = '\0';
	if (c->key.tunnel)
		snprintf(note, sizeof(note), "%s %u ", nd_tunnel_name((enum nd_tunnel)c->key.tunnel),
			 c->key.tunnel_id);
	if (snapshot)
		strncat(note, "active ", sizeof(note) - strlen(note) - 1);
	else if (c->end == ND_END_EVICTED)
		strncat(note, "evicted ", sizeof(note) - strlen(note) - 1);
	if (c->client_by >= ND_CLIENT_PORT)
		strncat(note, "no-handshake ", sizeof(note) - strlen(note) - 1);
	if (cd->malformed + sd->malformed)
		strncat(note, "malformed", sizeof(note) - strlen(note) - 1);
	{
		static const char letter[ND_V_COUNT] = "SRNM-";    /* sender ... mixed, no data */
		char lim[16], retx[24], st[12];

		snprintf(lim, sizeof(lim), "%c/%c", letter[r[0].vid], letter[r[1].vid]);
		snprintf(retx, sizeof(retx), "%u/%u", cd->inf.retrans_pkts + cd->inf.syn_retrans,
			 sd->inf.retrans_pkts + sd->inf.syn_retrans);
		snprintf(st, sizeof(st), "%u", c->lc ? c->lc->nstalls + c->lc->stalls_dropped : 0);
		fprintf(w->f, "%-12s %-28s %-28s %-11s %9.3f %15s %15s %11s %7s %5s %9s %7s %6s %6s  %s\n",
			start, nd_endpoint_str(&c->key, c->client, cl, sizeof(cl)),
			nd_endpoint_str(&c->key, !c->client, sv, sizeof(sv)), nd_conn_state_name(c->state),
			secs(c->last_ts - c->first_ts), pk, pl, mss, ws, opts, rtt, lim, retx, st, note);
	}
}

/* ---- findings: the worst connections and why ---- */

static size_t cat(char *buf, size_t len, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t cat(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (at >= len)
		return at;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

static void finding(struct nd_conn_writer *w, const struct nd_conn *c, const struct nd_lim_result res[2])
{
	const struct nd_lim_conn *lc = c->lc;
	struct nd_finding f = { 0 };
	double stall_s = 0, longest = 0;
	uint32_t retx = 0;
	size_t at = 0;
	char a[80], b[80];
	bool any = false;

	for (uint32_t i = 0; lc && i < lc->nstalls; i++) {
		double d = secs(lc->stall[i].dur);
		stall_s += d;
		if (d > longest)
			longest = d;
		if (lc->stall[i].cause < ND_STALL_COUNT)
			w->stalls[lc->stall[i].cause]++;
	}
	at = cat(f.text, sizeof(f.text), at, "%s -> %s:", nd_endpoint_str(&c->key, c->client, a, sizeof(a)),
		 nd_endpoint_str(&c->key, !c->client, b, sizeof(b)));
	for (int k = 0; k < 2; k++) {
		int side = k ? !c->client : c->client;
		const struct nd_infer_dir *d = &c->dir[side].inf;
		const struct nd_lim_result r = res[k];
		enum nd_verdict v = r.vid;

		if (r.data)
			w->verdicts[v]++;
		retx += d->retrans_pkts + d->syn_retrans;
		/* worth a line: losses, zero windows, or a receiver-limited
		 * transfer of some length (network-limited alone is what a bulk
		 * transfer that fills its path looks like: not a finding) */
		if (!r.data || (!d->retrans_pkts && !c->dir[!side].inf.zero_window &&
				!(v == ND_V_RECEIVER && r.transfer_s >= 0.01)))
			continue;
		any = true;
		at = cat(f.text, sizeof(f.text), at, " %s %s (snd %.0f%% rcv %.0f%% net %.0f%% of %.3f s)",
			 k ? "s2c" : "c2s", r.verdict, 100 * r.frac[0], 100 * r.frac[1], 100 * r.frac[2],
			 r.transfer_s);
		if (d->retrans_pkts)
			at = cat(f.text, sizeof(f.text), at, ", %u retransmitted (%u fast, %u RTO)",
				 d->retrans_pkts, d->fast_retrans, d->rto_retrans);
		if (c->dir[!side].inf.zero_window)
			at = cat(f.text, sizeof(f.text), at, ", %u zero windows from the receiver",
				 c->dir[!side].inf.zero_window);
		at = cat(f.text, sizeof(f.text), at, ";");
		if (v == ND_V_RECEIVER || v == ND_V_NETWORK)
			f.score += 0.01 * r.transfer_s * r.frac[v];
	}
	if (lc && lc->nstalls) {
		any = true;
		at = cat(f.text, sizeof(f.text), at, " %u stall%s, %.3f s in all, longest %.3f s (", lc->nstalls,
			 lc->nstalls == 1 ? "" : "s", stall_s, longest);
		for (uint32_t i = 0; i < lc->nstalls && i < 4; i++)
			at = cat(f.text, sizeof(f.text), at, "%s%s %s %.3f s", i ? ", " : "",
				 side_name(c, lc->stall[i].side), nd_stall_cause_name(lc->stall[i].cause),
				 secs(lc->stall[i].dur));
		at = cat(f.text, sizeof(f.text), at, "%s);", lc->nstalls > 4 ? ", ..." : "");
	}
	if (lc && lc->txn_n && lc->nstalls) {
		unsigned tied = 0;
		for (uint32_t i = 0; i < lc->nslow; i++)
			tied += nd_lim_stall_for(lc, lc->slow[i].start, lc->slow[i].lat_ns) >= 0;
		at = cat(f.text, sizeof(f.text), at, " %u transactions, p50 %.3f ms, max %.3f ms, %u of the %u slowest during a stall;",
			 lc->txn_n, nd_lim_txn_quantile(lc, 0.5) / 1e3, lc->txn_max_us / 1e3, tied, lc->nslow);
	}
	if (!any)
		return;
	if (at && at < sizeof(f.text) && f.text[at - 1] == ';')
		f.text[at - 1] = '\0';
	w->flagged++;
	f.score += stall_s + 0.001 * retx;
	if (w->nfind < ND_FINDINGS_MAX) {
		w->find[w->nfind++] = f;
		return;
	}
	unsigned m = 0;
	for (unsigned i = 1; i < w->nfind; i++)
		if (w->find[i].score < w->find[m].score)
			m = i;
	if (f.score > w->find[m].score)
		w->find[m] = f;
}

static int by_score(const void *a, const void *b)
{
	double x = ((const struct nd_finding *)a)->score, y = ((const struct nd_finding *)b)->score;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void text_findings(struct nd_conn_writer *w, FILE *f)
{
	qsort(w->find, w->nfind, sizeof(w->find[0]), by_score);
	fprintf(f, "FINDINGS: ");
	if (!w->nfind) {
		fprintf(f, "none (no stalls, retransmissions, zero windows or receiver-limited transfers)\n");
	} else {
		fprintf(f, "%" PRIu64 " connection%s with stalls, retransmissions or window limits; the worst:\n",
			w->flagged, w->flagged == 1 ? "" : "s");
		for (unsigned i = 0; i < w->nfind; i++)
			fprintf(f, "%2u. %s\n", i + 1, w->find[i].text);
	}
	fprintf(f, "verdicts (directions with data):");
	for (unsigned i = 0; i < ND_V_IDLE; i++)        /* idle directions have no data */
		fprintf(f, "%s %s %" PRIu64, i ? "," : "", nd_lim_verdict_name(i), w->verdicts[i]);
	fprintf(f, "\nstalls:");
	for (unsigned i = 0; i < ND_STALL_COUNT; i++)
		fprintf(f, "%s %s %" PRIu64, i ? "," : "", nd_stall_cause_name(i), w->stalls[i]);
	fprintf(f, "\n\n");
}

void nd_cw_conn(struct nd_conn_writer *w, const struct nd_conn *c, bool snapshot)
{
	struct nd_lim_result r[2];      /* c2s, s2c: computed once for every view */

	nd_lim_result(c, c->client, &r[0]);
	nd_lim_result(c, !c->client, &r[1]);
	w->rows++;
	if (!snapshot)
		finding(w, c, r);
	meta_line(w);
	switch (w->fmt) {
	case ND_FMT_JSON: json_conn(w, c, snapshot, r); break;
	case ND_FMT_CSV: csv_conn(w, c, snapshot, r); break;
	case ND_FMT_TEXT: text_conn(w, c, snapshot, r); break;
	}
}

/* ---- summary ---- */

static uint64_t skipped_total(const struct nd_tcp_summary *s)
{
	uint64_t n = 0;

	for (int i = 1; i < ND_SKIP__COUNT; i++)
		n += s->skipped[i];
	return n;
}

static void json_counts(struct nd_json *j, const struct nd_tcp_summary *s)
{
	nd_json_u64(j, "packets", s->frames);
	nd_json_u64(j, "decoded", s->tcp + s->udp);
	nd_json_u64(j, "tcp", s->tcp);
	nd_json_u64(j, "udp", s->udp);
	nd_json_u64(j, "skipped_total", skipped_total(s));
	nd_json_obj_open(j, "skipped");
	for (int i = 1; i < ND_SKIP__COUNT; i++)
		if (s->skipped[i])
			nd_json_u64(j, nd_skip_name((enum nd_skip)i), s->skipped[i]);
	nd_json_obj_close(j);
	nd_json_obj_open(j, "malformed");
	for (int i = 1; i < ND_SKIP__COUNT; i++)
		if (s->malformed[i])
			nd_json_u64(j, nd_skip_name((enum nd_skip)i), s->malformed[i]);
	nd_json_obj_close(j);
	nd_json_u64(j, "snaplen_cut", s->snap_cut);
	nd_json_u64(j, "connections", s->trk.conns);
	nd_json_u64(j, "active", s->trk.active);
	nd_json_u64(j, "evicted", s->trk.evicted_open + s->trk.evicted_closed);
	if (s->cap.valid) {
		nd_json_obj_open(j, "capture");
		nd_json_u64(j, "recv", s->cap.recv);
		nd_json_u64(j, "drop", s->cap.drop);
		nd_json_u64(j, "ifdrop", s->cap.ifdrop);
		nd_json_obj_close(j);
	} else {
		nd_json_null(j, "capture");
	}
}

static void json_summary(struct nd_conn_writer *w, const struct nd_tcp_summary *s, bool final)
{
	struct nd_json *j = &w->j;
	const struct nd_tracker_stats *t = &s->trk;

	nd_json_obj_open(j, NULL);
	nd_json_str(j, "type", final ? "summary" : "interval");
	json_counts(j, s);
	if (final) {
		nd_json_obj_open(j, "ended");
		nd_json_u64(j, "finished", t->finished);
		nd_json_u64(j, "idle_timeout", t->timed_out);
		nd_json_u64(j, "evicted_open", t->evicted_open);
		nd_json_u64(j, "evicted_closed", t->evicted_closed);
		nd_json_u64(j, "port_reused", t->reused);
		nd_json_u64(j, "open_at_end", t->input_end);
		nd_json_obj_close(j);
		nd_json_obj_open(j, "table");
		nd_json_u64(j, "cap", t->cap);
		nd_json_u64(j, "peak", t->peak);
		nd_json_u64(j, "untracked_nomem", t->nomem);
		nd_json_obj_close(j);
		nd_json_u64(j, "time_backwards", t->backwards);
		if (s->first_ts) {
			nd_json_double(j, "first_ts", secs(s->first_ts), 6);
			nd_json_double(j, "last_ts", secs(s->last_ts), 6);
		} else {
			nd_json_null(j, "first_ts");
			nd_json_null(j, "last_ts");
		}
		nd_json_arr_open(j, "inputs");
		for (size_t i = 0; i < s->ninputs; i++) {
			nd_json_obj_open(j, NULL);
			nd_json_str(j, "name", s->inputs[i].name);
			nd_json_str(j, "link", s->inputs[i].link);
			nd_json_u64(j, "packets", s->inputs[i].frames);
			nd_json_str(j, "error", s->inputs[i].error);
			nd_json_obj_close(j);
		}
		nd_json_arr_close(j);
		nd_json_bool(j, "interrupted", s->interrupted);
	}
	nd_json_obj_close(j);
	nd_json_endline(j);
}

static void text_summary(FILE *f, const struct nd_tcp_summary *s, bool final)
{
	const struct nd_tracker_stats *t = &s->trk;
	uint64_t sk = skipped_total(s);

	fprintf(f, "%s: %" PRIu64 " packets read, %" PRIu64 " TCP and %" PRIu64
		" UDP decoded, %" PRIu64 " skipped", final ? "summary" : "interval", s->frames,
		s->tcp, s->udp, sk);
	if (sk) {
		const char *sep = " (";
		for (int i = 1; i < ND_SKIP__COUNT; i++)
			if (s->skipped[i]) {
				fprintf(f, "%s%s %" PRIu64, sep, nd_skip_name((enum nd_skip)i), s->skipped[i]);
				sep = ", ";
			}
		fputc(')', f);
	}
	fputc('\n', f);
	for (int i = 1; i < ND_SKIP__COUNT; i++)
		if (s->malformed[i])
			fprintf(f, "  %" PRIu64 " TCP packets counted in their connection but malformed (%s): "
				"a receiver would drop them\n", s->malformed[i], nd_skip_name((enum nd_skip)i));
	if (s->snap_cut)
		fprintf(f, "  %" PRIu64 " packets were cut by the snapshot length (payload sizes "
			"taken from IP headers)\n", s->snap_cut);
	if (final) {
		fprintf(f, "connections: %" PRIu64 " (finished %" PRIu64 ", idle timeout %" PRIu64
			", open at end %" PRIu64 ", port reused %" PRIu64 ")\n", t->conns, t->finished,
			t->timed_out, t->input_end, t->reused);
		fprintf(f, "table: cap %zu, peak %zu; evicted %" PRIu64 " (%" PRIu64 " open, %" PRIu64
			" closed)%s\n", t->cap, t->peak, t->evicted_open + t->evicted_closed,
			t->evicted_open, t->evicted_closed,
			t->evicted_open ? " - raise --max-flows to keep them whole" : "");
		if (t->nomem)
			fprintf(f, "  %" PRIu64 " TCP packets not tracked: out of memory\n", t->nomem);
		if (t->backwards)
			fprintf(f, "  %" PRIu64 " packets had timestamps earlier than the one before\n",
				t->backwards);
	} else {
		fprintf(f, "connections: %" PRIu64 " seen, %zu active\n", t->conns, t->active);
	}
	if (s->cap.valid)
		fprintf(f, "capture: kernel received %" PRIu64 ", dropped %" PRIu64
			" (buffer full; raise --buffer-size), interface dropped %" PRIu64 "\n",
			s->cap.recv, s->cap.drop, s->cap.ifdrop);
	for (size_t i = 0; final && i < s->ninputs; i++)
		if (s->inputs[i].error)
			fprintf(f, "input %s: %s\n", s->inputs[i].name, s->inputs[i].error);
	if (final && s->interrupted)
		fprintf(f, "interrupted: the report covers what was read before the signal\n");
}

void nd_cw_interval(struct nd_conn_writer *w, uint64_t seq, const struct nd_tcp_summary *s)
{
	meta_line(w);
	switch (w->fmt) {
	case ND_FMT_JSON: json_summary(w, s, false); break;
	case ND_FMT_CSV: break;
	case ND_FMT_TEXT:
		fprintf(w->f, "--- interval %" PRIu64 " ---\n", seq);
		text_summary(w->f, s, false);
		w->header_done = false;
		break;
	}
}

void nd_cw_summary(struct nd_conn_writer *w, const struct nd_tcp_summary *s)
{
	meta_line(w);
	switch (w->fmt) {
	case ND_FMT_JSON: json_summary(w, s, true); break;
	case ND_FMT_CSV: text_summary(stderr, s, true); break;
	case ND_FMT_TEXT:
		if (w->out) {
			/* the findings first, then the table held back */
			char buf[65536];
			size_t n;

			text_findings(w, w->out);
			rewind(w->f);
			while ((n = fread(buf, 1, sizeof(buf), w->f)) > 0)
				fwrite(buf, 1, n, w->out);
			fclose(w->f);
			w->f = w->out;
			w->out = NULL;
			if (w->rows)
				fputc('\n', w->f);
		} else {
			if (w->rows)
				fputc('\n', w->f);
			text_findings(w, w->f);
		}
		text_summary(w->f, s, true);
		break;
	}
}
