/* `icelab pcap replay FILE --sim A,B`: the capture's ICE negotiation
 * re-run in the simulator behind other NATs (replay_sim.h says what is
 * taken from the capture and what the simulator is given). The two
 * agents are the reference ones of `icelab sim matrix` (sim/matrix_ice.c:
 * full ICE, gathering host, server-reflexive and relayed candidates from
 * their own STUN/TURN server, trickled over a signalling channel); only
 * the NATs, the relay mode, the gathering policy and the signalling delay
 * come from the capture. */
#include "replay_sim.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/ice.h"
#include "icelab/ice_gather.h"
#include "icelab/peer_policy.h"
#include "icelab/sim.h"
#include "icelab/sim_ice.h"
#include "pcaps_internal.h"

#define DEFAULT_SIGNAL_DELAY_MS 50
#define MAX_SIGNAL_DELAY_MS 2000

/* "bbbb:aaaa" and "aaaa:bbbb" name the same session (RFC 8445 §7.2.2:
 * USERNAME is the receiver's ufrag, a colon, the sender's). */
static bool same_session(const char *u, const char *v)
{
	if (strcmp(u, v) == 0)
		return true;
	const char *cu = strchr(u, ':'), *cv = strchr(v, ':');
	if (!cu || !cv)
		return false;
	size_t lu = (size_t)(cu - u), lv = (size_t)(cv - v);
	return strlen(cu + 1) == lv && strlen(cv + 1) == lu && memcmp(u, cv + 1, lu) == 0 &&
	       memcmp(v, cu + 1, lv) == 0;
}

/* The SIP call side (and its call) that advertised addr, if any. */
static const pa_call_side *sdp_side(const il_pcap_analysis *a, const il_addr *addr,
				    const pa_call **call)
{
	for (size_t i = 0; i < a->calls.cap; i++) {
		const pa_call *c = a->calls.slots[i];
		if (!c)
			continue;
		for (uint8_t m = 0; m < c->media_count && m < CALL_MAX_MEDIA; m++)
			for (int s = 0; s < 2; s++) {
				const pa_call_side *x = &c->sides[m][s];
				for (uint8_t k = 0; k < x->adv_count; k++)
					if (il_addr_equal(&x->adv[k], addr)) {
						*call = c;
						return x;
					}
			}
	}
	return NULL;
}

static void types_text(uint8_t types, char *out, size_t cap)
{
	size_t w = 0;
	out[0] = '\0';
	for (int t = IL_ICE_CAND_HOST; t <= IL_ICE_CAND_RELAY && w < cap; t++)
		if (types & (1u << t))
			w += (size_t)snprintf(out + w, cap - w, "%s%s", w ? "+" : "",
					      il_ice_candidate_type_name(t));
}

/* Candidate types of one side: from its SDP, else what its address says. */
static void side_info(il_sim_replay_capture *c, const il_pcap_analysis *a, int i,
		      const il_addr *addr, bool relayed, const pa_call **call)
{
	const pa_call_side *s = sdp_side(a, addr, call);
	if (s && s->cand_types) {
		char t[32];
		types_text(s->cand_types, t, sizeof t);
		snprintf(c->cand[i], sizeof c->cand[i], "%s (SDP)", t);
		snprintf(c->ufrag[i], sizeof c->ufrag[i], "%s", s->ufrag);
		if (s->cand_types == (1u << IL_ICE_CAND_RELAY))
			c->policy[i] = IL_ICE_GATHER_RELAY_ONLY;
		if (s->cand_types & (1u << IL_ICE_CAND_RELAY))
			c->mode = (s->cand_tcp & (1u << IL_ICE_CAND_RELAY)) ? IL_SIM_ICE_TURN_TCP
									 : IL_SIM_ICE_TURN_UDP;
		return;
	}
	snprintf(c->cand[i], sizeof c->cand[i], "%s (no SDP)",
		 relayed ? "relay" : il_addr_is_private(addr) ? "host, private" : "public");
	if (s)
		snprintf(c->ufrag[i], sizeof c->ufrag[i], "%s", s->ufrag);
}

static void signal_delay(il_sim_replay_capture *c, const pa_call *call)
{
	c->signal_delay_ms = DEFAULT_SIGNAL_DELAY_MS;
	if (!call)
		return;
	for (size_t i = 0; i + 1 < call->sdp_count; i++) {
		const pa_sdp_rec *o = &call->sdps[i], *r = &call->sdps[i + 1];
		if (o->offer && !r->offer && r->us >= o->us) {
			uint64_t ms = (r->us - o->us) / 2000;
			c->signal_delay_ms = (uint32_t)(ms < 1 ? 1 : ms > MAX_SIGNAL_DELAY_MS
								     ? MAX_SIGNAL_DELAY_MS
								     : ms);
			c->delay_from_sdp = true;
			return;
		}
	}
}

int il_sim_replay_extract(const il_pcap_analysis *a, il_sim_replay_capture *out)
{
	memset(out, 0, sizeof *out);
	const pa_ice_pair *first = NULL;
	for (size_t i = 0; i < a->ice_pairs.cap; i++) {
		const pa_ice_pair *p = a->ice_pairs.slots[i];
		if (p && p->username[0] && (!first || p->first_frame < first->first_frame))
			first = p;
	}
	if (!first)
		return -1;
	/* The controlling side: the sender of a check with ICE-CONTROLLING,
	 * else the sender of the first check. */
	const pa_ice_pair *ctl = NULL, *sel = NULL;
	uint64_t t0 = first->first_us;
	for (size_t i = 0; i < a->ice_pairs.cap; i++) {
		const pa_ice_pair *p = a->ice_pairs.slots[i];
		if (!p || !p->username[0] || !same_session(p->username, first->username))
			continue;
		out->pairs++;
		if (p->role == 1 && (!ctl || p->first_frame < ctl->first_frame))
			ctl = p;
		out->relayed |= p->relayed;
		if (p->successes) {
			out->succeeded++;
			/* selected: nominated by the controlling side, else the
			 * earliest success */
			bool better = !sel || (p->nominated && !sel->nominated) ||
				      (p->nominated == sel->nominated &&
				       p->first_success_us < sel->first_success_us);
			if (better)
				sel = p;
		} else if (p->errors) {
			out->err401 += p->error_counts[0] > 0;
			out->err487 += p->error_counts[1] > 0 && !p->error_counts[0];
			out->err_other += !p->error_counts[0] && !p->error_counts[1];
		} else if (p->no_response) {
			out->no_response++;
		} else {
			out->pending++;
		}
	}
	out->roles_known = ctl != NULL;
	if (!ctl)
		ctl = first;
	snprintf(out->username, sizeof out->username, "%s", ctl->username);
	out->controlling = ctl->local;
	out->controlled = ctl->remote;
	out->first_check_frame = first->first_frame;
	if (sel) {
		out->connected = true;
		out->nominated = sel->nominated;
		out->sel_local = sel->local;
		out->sel_remote = sel->remote;
		uint64_t t = sel->nominated ? sel->nominated_us : sel->first_success_us;
		out->connect_ms = t >= t0 ? (double)(t - t0) / 1000.0 : 0.0;
	}
	out->mode = IL_SIM_ICE_NO_TURN;
	for (size_t i = 0; i < a->allocations.cap; i++) {
		const pa_turn_alloc *t = a->allocations.slots[i];
		if (t && (t->have_relayed || t->created_seen))
			out->mode = t->transport == 6 ? IL_SIM_ICE_TURN_TCP : IL_SIM_ICE_TURN_UDP;
	}
	if (out->relayed && out->mode == IL_SIM_ICE_NO_TURN)
		out->mode = IL_SIM_ICE_TURN_UDP;
	const pa_call *c0 = NULL, *c1 = NULL;
	side_info(out, a, 0, &out->controlling, ctl->relayed, &c0);
	side_info(out, a, 1, &out->controlled, false, &c1);
	signal_delay(out, c0 ? c0 : c1);
	return 0;
}

/* ---- presets */

void il_sim_replay_free_presets(char **pairs, int n)
{
	for (int i = 0; pairs && i < 2 * n; i++)
		free(pairs[i]);
	free(pairs);
}

static int check_preset(const char *p, char *err, size_t errlen)
{
	il_sim_nat_config c, o;
	int layers;
	char perr[160];
	if (il_sim_preset_parse(p, &c, &o, &layers, perr, sizeof perr) == 0)
		return 0;
	snprintf(err, errlen, "--sim: '%s': %s", p, perr);
	return -1;
}

int il_sim_replay_parse_presets(const char *spec, char ***pairs_out, char *err, size_t errlen)
{
	*pairs_out = NULL;
	if (strcmp(spec, "all") == 0) {
		const char *const *names = il_sim_preset_names();
		int k = 0;
		while (names[k])
			k++;
		int n = k * k > IL_SIM_REPLAY_MAX_CELLS ? IL_SIM_REPLAY_MAX_CELLS : k * k;
		char **v = calloc((size_t)(2 * n), sizeof *v);
		if (!v)
			return -1;
		for (int i = 0; i < n; i++) {
			v[2 * i] = strdup(names[i / k]);
			v[2 * i + 1] = strdup(names[i % k]);
		}
		*pairs_out = v;
		return n;
	}
	/* Split at commas; a piece with '=' is a knob of the preset before it. */
	char *parts[2] = {NULL, NULL};
	int np = 0;
	const char *p = spec;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool knob = memchr(p, '=', len) != NULL;
		if (len == 0 || (!knob && np == 2) || (knob && np == 0)) {
			np = -1;
			break;
		}
		if (knob) {
			size_t old = strlen(parts[np - 1]);
			char *q = realloc(parts[np - 1], old + len + 2);
			if (!q)
				break;
			q[old] = ',';
			memcpy(q + old + 1, p, len);
			q[old + 1 + len] = '\0';
			parts[np - 1] = q;
		} else {
			parts[np++] = strndup(p, len);
		}
		p += len + (e ? 1 : 0);
		if (e && !*p)
			np = -1;
	}
	if (np != 2) {
		free(parts[0]);
		free(parts[1]);
		snprintf(err, errlen, "--sim '%s': expected PRESET-A,PRESET-B or all", spec);
		return -1;
	}
	if (check_preset(parts[0], err, errlen) < 0 || check_preset(parts[1], err, errlen) < 0) {
		free(parts[0]);
		free(parts[1]);
		return -1;
	}
	char **v = malloc(2 * sizeof *v);
	if (!v) {
		free(parts[0]);
		free(parts[1]);
		return -1;
	}
	v[0] = parts[0];
	v[1] = parts[1];
	*pairs_out = v;
	return 1;
}

/* ---- running and reporting */

static const char *type_name(int t)
{
	return t >= 0 ? il_ice_candidate_type_name(t) : "-";
}

static void capture_text(const il_sim_replay_capture *c, FILE *out)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN];
	fprintf(out, "capture: ICE session %s (first check frame %" PRIu64 "), %zu pair(s)\n",
		c->username, c->first_check_frame, c->pairs);
	fprintf(out, "  A: %s %s, candidates %s%s%s\n", c->roles_known ? "controlling" : "first checker",
		pa_addr_str(&c->controlling, s1), c->cand[0], c->ufrag[0][0] ? ", ufrag " : "",
		c->ufrag[0]);
	fprintf(out, "  B: %s %s, candidates %s%s%s\n", c->roles_known ? "controlled" : "checked",
		pa_addr_str(&c->controlled, s2), c->cand[1], c->ufrag[1][0] ? ", ufrag " : "",
		c->ufrag[1]);
	if (c->connected)
		fprintf(out, "  outcome: connected in %.1f ms on %s -> %s%s%s\n", c->connect_ms,
			pa_addr_str(&c->sel_local, s1), pa_addr_str(&c->sel_remote, s2),
			c->relayed ? " (relayed)" : "", c->nominated ? " (nominated)" : "");
	else
		fprintf(out, "  outcome: failed: %zu pair(s) without response, %zu answered 401, "
			     "%zu 487, %zu other errors, %zu pending at the end\n",
			c->no_response, c->err401, c->err487, c->err_other, c->pending);
	fprintf(out, "simulated: A behind the left preset, B behind the right; mode %s; signalling "
		     "delay %u ms (%s); gathering %s/%s\n",
		il_sim_ice_mode_name(c->mode), c->signal_delay_ms,
		c->delay_from_sdp ? "half the offer-answer time" : "default",
		il_ice_gather_policy_name(c->policy[0]), il_ice_gather_policy_name(c->policy[1]));
}

static json_t *capture_json(const il_sim_replay_capture *c)
{
	char s1[IL_ADDR_STRLEN], s2[IL_ADDR_STRLEN], s3[IL_ADDR_STRLEN], s4[IL_ADDR_STRLEN];
	json_t *o = json_pack(
		"{s:s,s:I,s:I,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:{s:I,s:I,s:I,s:I,s:I}}", "username",
		c->username, "first_check_frame", (json_int_t)c->first_check_frame, "pairs",
		(json_int_t)c->pairs, "roles_known", c->roles_known, "controlling",
		pa_addr_str(&c->controlling, s1), "controlled", pa_addr_str(&c->controlled, s2),
		"candidates_a", c->cand[0], "candidates_b", c->cand[1], "ufrag_a", c->ufrag[0],
		"ufrag_b", c->ufrag[1], "connected", c->connected, "failed_pairs", "no_response",
		(json_int_t)c->no_response, "401", (json_int_t)c->err401, "487",
		(json_int_t)c->err487, "other", (json_int_t)c->err_other, "pending",
		(json_int_t)c->pending);
	if (c->connected) {
		json_object_set_new(o, "selected",
				    json_pack("{s:s,s:s,s:b,s:b}", "local",
					      pa_addr_str(&c->sel_local, s3), "remote",
					      pa_addr_str(&c->sel_remote, s4), "relayed", c->relayed,
					      "nominated", c->nominated));
		json_object_set_new(o, "connect_ms", json_real(c->connect_ms));
	}
	return o;
}

int il_sim_replay_run(const il_sim_replay_capture *cap, char **pairs, int n, uint64_t seed,
		      FILE *out, json_t *json, char *err, size_t errlen)
{
	il_sim_ice_opts o = {.mode = cap->mode,
			     .policy = {cap->policy[0], cap->policy[1]},
			     .signal_delay_ms = cap->signal_delay_ms};
	json_t *cells = json ? json_array() : NULL;
	if (!json) {
		capture_text(cap, out);
		fprintf(out, "  %-22s %-22s %-9s %-13s %9s %6s %-8s %s\n", "A", "B", "outcome",
			"pair (A-B)", "time", "checks", "expected", "against the capture");
	}
	int connected = 0;
	for (int i = 0; i < n; i++) {
		il_sim_ice_result r;
		if (il_sim_ice_pair_run(pairs[2 * i], pairs[2 * i + 1], &o, seed, &r, err, errlen) <
		    0) {
			json_decref(cells);
			return -1;
		}
		/* The matrix's expectation assumes full gathering: a relay-only
		 * side turns a direct or host path into a relayed one. */
		if ((r.expected == IL_SIM_ICE_HOST || r.expected == IL_SIM_ICE_DIRECT) &&
		    (cap->policy[0] == IL_ICE_GATHER_RELAY_ONLY ||
		     cap->policy[1] == IL_ICE_GATHER_RELAY_ONLY))
			r.expected = IL_SIM_ICE_RELAY;
		bool ok = r.outcome != IL_SIM_ICE_FAILED;
		connected += ok;
		const char *vs = ok == cap->connected ? "same" : ok ? "connects (capture failed)"
								   : "fails (capture connected)";
		if (json) {
			json_t *c = json_pack(
				"{s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:b,s:I,s:b}", "a", pairs[2 * i], "b",
				pairs[2 * i + 1], "outcome", il_sim_ice_outcome_name(r.outcome),
				"connected", ok, "local_type", type_name(r.local_type), "remote_type",
				type_name(r.remote_type), "expected", il_sim_ice_outcome_name(r.expected),
				"as_expected", r.outcome == r.expected, "checks", (json_int_t)r.checks,
				"same_as_capture", ok == cap->connected);
			if (ok)
				json_object_set_new(c, "time_ms", json_integer((json_int_t)r.time_ms));
			if (r.detail[0])
				json_object_set_new(c, "detail", json_string(r.detail));
			json_array_append_new(cells, c);
			continue;
		}
		char pair[32], t[16];
		snprintf(pair, sizeof pair, "%s-%s", type_name(r.local_type), type_name(r.remote_type));
		if (ok)
			snprintf(t, sizeof t, "%" PRIu64 " ms", r.time_ms);
		else
			snprintf(t, sizeof t, "-");
		fprintf(out, "  %-22s %-22s %-9s %-13s %9s %6u %-8s %s\n", pairs[2 * i],
			pairs[2 * i + 1], ok ? "connected" : "failed", ok ? pair : "-", t, r.checks,
			il_sim_ice_outcome_name(r.expected), vs);
	}
	if (json) {
		json_object_set_new(json, "capture", capture_json(cap));
		json_object_set_new(
			json, "sim",
			json_pack("{s:s,s:I,s:i,s:s,s:s}", "mode", il_sim_ice_mode_name(cap->mode),
				  "seed", (json_int_t)seed, "signal_delay_ms", (int)cap->signal_delay_ms,
				  "policy_a", il_ice_gather_policy_name(cap->policy[0]), "policy_b",
				  il_ice_gather_policy_name(cap->policy[1])));
		json_object_set_new(json, "cells", cells);
		json_object_set_new(json, "connected", json_integer(connected));
		return 0;
	}
	fprintf(out, "%d of %d NAT pairing(s) connect with reference agents", connected, n);
	if (!cap->connected && connected && (cap->err401 || cap->err487))
		fprintf(out, "; the capture's failure (401/487 answers) is not the NATs': "
			     "credentials or roles");
	fputc('\n', out);
	return 0;
}
