/* Internals of the ICE agent core, shared by the files of ref/ice/. */
#ifndef ICELAB_ICE_INTERNAL_H
#define ICELAB_ICE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/ice.h"
#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

#define NO_INDEX 0xFF
#define CONSENT_TXNS 4 /* consent requests awaited at once per component */

/* One check transaction (RFC 8489 §6.2.1 timers, RFC 8445 §14.3 RTO). */
typedef struct ice_txn {
	bool active;
	bool cancelled;      /* replaced by a triggered check: no retransmission (§7.3.1.4) */
	bool use_candidate;  /* the request carried USE-CANDIDATE */
	bool controlling;    /* the role the request was sent in */
	uint8_t tid[IL_STUN_TID_LEN];
	uint8_t sends;
	uint32_t interval_ms;
	uint32_t rto_ms;
	uint64_t sent_ms;    /* first transmission */
	uint64_t next_ms;    /* next retransmission, or the timeout */
} ice_txn;

typedef struct ice_pair {
	uint8_t local, remote;   /* candidate indices in the stream */
	uint8_t component;
	uint8_t state;           /* enum il_ice_pair_state */
	bool valid;
	bool nominated;
	bool nominate_on_success; /* controlled: USE-CANDIDATE came before the pair was valid */
	bool nominating;          /* controlling: our checks carry USE-CANDIDATE */
	bool queued;              /* in the triggered-check queue */
	uint8_t valid_local;      /* the local candidate of the valid pair (§7.2.5.3.2) */
	uint64_t priority;
	uint64_t valid_priority;  /* priority of the valid pair built from the mapped address */
	ice_txn txn, old_txn;
	/* statistics */
	uint32_t rtt_ms, rtt_samples;
	uint64_t total_rtt_ms;
	uint32_t requests_sent, requests_received, responses_sent, responses_received;
	uint32_t consent_requests_sent;
	uint64_t packets_sent, packets_received, bytes_sent, bytes_received;
	uint64_t last_response_ms;
} ice_pair;

typedef struct ice_component {
	uint8_t selected;         /* pair index, or NO_INDEX */
	bool selected_nominated;  /* reported as nominated in the last SELECTED_PAIR */
	bool consent_expired;
	bool disconnected;
	uint64_t consent_ok_ms;   /* last consent response (or selection) */
	uint64_t consent_next_ms; /* next consent request (UINT64_MAX: none) */
	ice_txn consent[CONSENT_TXNS];
	uint64_t last_sent_ms;    /* keepalives */
	/* The selected pair before an ICE restart: media goes on here until
	 * the new check list selects a pair (§9). */
	bool has_previous;
	il_ice_candidate prev_local;
	il_addr prev_remote;
	ice_pair prev_pair;       /* its statistics and consent */
} ice_component;

enum ice_list_state { LIST_RUNNING = 0, LIST_COMPLETED, LIST_FAILED };

typedef struct ice_stream {
	unsigned components;
	char lufrag[IL_ICE_UFRAG_MAX + 1], lpwd[IL_ICE_PWD_MAX + 1];
	char rufrag[IL_ICE_UFRAG_MAX + 1], rpwd[IL_ICE_PWD_MAX + 1];
	il_stun_key lkey, rkey;
	bool have_remote;
	/* During a pending restart, checks with the old credentials are
	 * still answered (consent on the old pair). */
	bool old_local_valid;
	char old_lufrag[IL_ICE_UFRAG_MAX + 1];
	il_stun_key old_lkey;
	/* Sized by the agent's configuration, in the stream's own allocation
	 * (ice_stream_new): local_cap, remote_cap, and cfg.max_pairs pairs. */
	il_ice_candidate *local;
	size_t local_count, local_cap;
	il_ice_candidate *remote;
	size_t remote_count, remote_cap;
	ice_pair *pairs;
	size_t pair_count, pair_cap;
	uint8_t *triggered;       /* FIFO of pair indices, pair_cap of them */
	size_t tq_head, tq_count;
	int list_state;
	bool local_eoc, remote_eoc;
	uint64_t first_valid_ms;  /* UINT64_MAX until a pair is valid */
	uint32_t prflx_serial;
	ice_component comp[IL_ICE_MAX_COMPONENTS];
	/* ICE restart (§9): local credentials changed and the peer's have
	 * not yet (rollback possible); then, until the new check list
	 * selects its pairs, the previous pairs carry media. */
	bool restart_pending;
	char old_lpwd[IL_ICE_PWD_MAX + 1];
	bool restart_selecting;       /* RESTART_DONE when every component is selected */
} ice_stream;

typedef struct ice_foundation {
	uint8_t type, transport;
	il_addr base, server;
} ice_foundation;

struct il_ice_agent {
	il_ice_config cfg;
	il_ice_callbacks cb;
	bool controlling;
	bool remote_lite;
	bool started, closed;
	uint64_t tie_breaker;
	int state;
	ice_stream *streams[IL_ICE_MAX_STREAMS];
	unsigned stream_count;
	uint64_t next_check_ms;   /* pacing (Ta) */
	unsigned rr_stream;       /* round robin over check lists */
	il_ice_counters counters;
	/* foundations of local candidates: (type, base IP, server IP, transport) */
	/* foundations of local candidates: (type, base IP, server IP,
	 * transport), IL_ICE_MAX_STREAMS x the local candidates of a stream,
	 * in the agent's own allocation */
	ice_foundation *foundations;
	size_t foundation_count, foundation_cap;
};

/* agent.c */
ice_stream *ice_stream_get(const il_ice_agent *a, unsigned stream);
void ice_emit(il_ice_agent *a, const il_ice_event *ev);
void ice_update_state(il_ice_agent *a, uint64_t now_ms);
void ice_random(il_ice_agent *a, void *out, size_t len);
void ice_send(il_ice_agent *a, unsigned stream, unsigned component, const il_ice_candidate *local,
	      const il_addr *remote, const uint8_t *data, size_t len);
void ice_fill_stats(const il_ice_agent *a, unsigned si, const ice_pair *p, il_ice_pair_stats *out);
void ice_random_ice_chars(il_ice_agent *a, char *out, size_t n);
int ice_set_local_credentials(il_ice_agent *a, ice_stream *s, const char *ufrag,
			      const char *pwd);

ice_pair *ice_media_pair(ice_stream *s, ice_component *comp, const il_ice_candidate **local,
			 const il_addr **remote);

/* candidates.c */
int ice_find_local_by_base(const ice_stream *s, const il_addr *base);
int ice_find_local_by_addr(const ice_stream *s, unsigned component, const il_addr *addr);
int ice_find_remote(const ice_stream *s, unsigned component, const il_addr *addr);
void ice_assign_foundation(il_ice_agent *a, il_ice_candidate *c);
int ice_add_remote_prflx(il_ice_agent *a, unsigned si, unsigned component, const il_addr *addr,
			 uint32_t priority);
int ice_add_local_prflx(il_ice_agent *a, unsigned si, const ice_pair *p, const il_addr *mapped,
			uint32_t priority);

/* checklist.c */
uint64_t ice_pair_priority_of(const il_ice_agent *a, const ice_stream *s, unsigned local,
			      unsigned remote);
int ice_pair_find(const ice_stream *s, unsigned local, unsigned remote);
int ice_pair_add(il_ice_agent *a, unsigned si, unsigned local, unsigned remote);
void ice_pairs_form_for_local(il_ice_agent *a, unsigned si, unsigned local);
void ice_pairs_form_for_remote(il_ice_agent *a, unsigned si, unsigned remote);
void ice_checklist_init_states(il_ice_agent *a);
void ice_recompute_priorities(il_ice_agent *a);
void ice_triggered_enqueue(ice_stream *s, unsigned pair);
void ice_unfreeze_foundation(il_ice_agent *a, const ice_stream *from, const ice_pair *p);
void ice_checklist_tick(il_ice_agent *a, uint64_t now_ms);
uint64_t ice_checklist_deadline(const il_ice_agent *a);
void ice_checklist_update(il_ice_agent *a, unsigned si, uint64_t now_ms);
bool ice_pair_same_foundation(const ice_stream *s1, const ice_pair *p1, const ice_stream *s2,
			      const ice_pair *p2);
uint32_t ice_count_pending(const il_ice_agent *a);

/* checks.c */
size_t ice_build_request(il_ice_agent *a, const ice_stream *s, const il_ice_candidate *local,
			 const ice_txn *txn, uint8_t *buf, size_t cap);
void ice_check_send(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms);
void ice_checks_timer(il_ice_agent *a, uint64_t now_ms);
uint64_t ice_checks_deadline(const il_ice_agent *a);
int ice_handle_stun(il_ice_agent *a, const il_addr *local, const il_addr *remote,
		    const uint8_t *data, size_t len, uint64_t now_ms);
void ice_set_role(il_ice_agent *a, bool controlling);

/* nomination.c */
void ice_nomination_tick(il_ice_agent *a, unsigned si, uint64_t now_ms);
uint64_t ice_nomination_deadline(const il_ice_agent *a);
void ice_pair_succeeded(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms);
void ice_pair_nominated(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms);
void ice_update_selected(il_ice_agent *a, unsigned si, unsigned component, uint64_t now_ms);
void ice_remote_use_candidate(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms);

/* consent.c */
void ice_consent_start(il_ice_agent *a, ice_component *c, uint64_t now_ms);
void ice_consent_timer(il_ice_agent *a, uint64_t now_ms);
uint64_t ice_consent_deadline(const il_ice_agent *a);
bool ice_consent_handle_response(il_ice_agent *a, unsigned si, const il_stun_msg *msg,
				 const il_addr *local, const il_addr *remote, uint64_t now_ms);

/* restart.c */
void ice_restart_remote(il_ice_agent *a, unsigned si, uint64_t now_ms);
void ice_restart_selected(il_ice_agent *a, unsigned si, uint64_t now_ms);

/* lite.c */
void ice_lite_use_candidate(il_ice_agent *a, unsigned si, unsigned pi, uint64_t now_ms);
bool ice_lite_active(const il_ice_agent *a);

static inline uint64_t ice_min(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

#endif
