/* SPDX-License-Identifier: MIT */
/*
 * render: a diagnosis (diag.h) as text for a person or as NDJSON for a
 * program, from the same structs. Both start with what was looked at (the
 * run and each source), then the findings, best first, then the notes.
 *
 * NDJSON lines, each with "type":
 *   meta     schema, tool, version, command, duration_s, from (the
 *            recording directory, or null for a live run), interrupted,
 *            netns [names], captures [{iface, netns}]
 *   source   name, available, missing (why not, or null), and its totals
 *   finding  rank, severity, mechanism, place {kind, netns, dev, qdisc,
 *            endpoint, flow, reason, location, text}, symptom, evidence
 *            [{source, agrees, key, value, text}], numbers {"SOURCE.KEY":
 *            value}, sources [those that agree], agree (their count),
 *            next_step, impact_s
 *   note     text
 *   summary  findings, findings_over, worst, top ({mechanism, place} or null)
 */
#ifndef NETDX_DOCTOR_RENDER_H
#define NETDX_DOCTOR_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "doctor/diag.h"
#include "doctor/dx.h"

struct nd_dx_run_info {
	const char *version;
	const char *from;       /* the recording directory, NULL for a live run */
	bool interrupted;       /* ended early by SIGINT/SIGTERM */
};

void nd_dx_render_text(FILE *f, const struct nd_dx_input *in, const struct nd_dx_diag *d,
		       const struct nd_dx_run_info *ri);
void nd_dx_render_json(FILE *f, const struct nd_dx_input *in, const struct nd_dx_diag *d,
		       const struct nd_dx_run_info *ri);

#endif
