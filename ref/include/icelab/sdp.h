/* The ICE parts of SDP (RFC 8839, RFC 8838 §15 end-of-candidates, RFC
 * 5761 rtcp-mux, RFC 6544 tcptype) and the c=/m=/o= lines an SBC rewrites
 * (RFC 8866 §5.2, §5.7, §5.14).
 *
 * il_sdp_parse reads a whole description into il_sdp_session: origin,
 * connection lines, media lines, ICE attributes and candidates as data;
 * every other line is kept verbatim, in order (pointing into the caller's
 * text, which must outlive the view). il_sdp_write writes it back, with
 * whatever the caller changed: the lines it models in their RFC 8866
 * place, the ICE attributes after the kept ones of their section.
 *
 * Errors name the line and the problem ("line 7: a=ice-pwd: 12
 * characters, 22 to 256 needed"). Nothing is allocated; il_sdp_session is
 * large (about 100 kB): allocate it. */
#ifndef ICELAB_SDP_H
#define ICELAB_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icelab/addr.h"
#include "icelab/ice.h"

#define IL_SDP_MAX_MEDIA 8
#define IL_SDP_MAX_CANDIDATES 32          /* per media section */
#define IL_SDP_MAX_REMOTE_CANDIDATES 8    /* a=remote-candidates entries per section */
#define IL_SDP_MAX_LINES 64               /* kept lines per section */
#define IL_SDP_EXT_MAX 256                /* unknown candidate extensions, as text */
#define IL_SDP_HOST_MAX 256               /* an FQDN connection address */
#define IL_SDP_TOKEN_MAX 64

enum il_sdp_err {
	IL_SDP_OK = 0,
	IL_SDP_ERR_SYNTAX = -1,   /* malformed; il_sdp_error says where and what */
	IL_SDP_ERR_FULL = -2,     /* more media, candidates or lines than the view holds */
	IL_SDP_ERR_SPACE = -3,    /* write: the output buffer is too small */
};

typedef struct il_sdp_error {
	unsigned line;            /* 1-based; 0 for a lone attribute value */
	char message[192];
} il_sdp_error;

typedef struct il_sdp_candidate {
	/* foundation, component, transport, priority, addr, type, related */
	il_ice_candidate cand;
	/* connection-address when it is an FQDN (e.g. an mDNS ".local"
	 * name): then cand.addr.family is IL_AF_NONE and only its port set. */
	char hostname[IL_SDP_HOST_MAX];
	char tcptype[8];          /* "active", "passive", "so"; "" when absent */
	int32_t generation;       /* -1 when absent */
	/* Unknown extensions, " name value" each, verbatim and in order. */
	char extensions[IL_SDP_EXT_MAX];
} il_sdp_candidate;

/* Parses a candidate attribute: "a=candidate:...", "candidate:..." or
 * the value after the colon (RFC 8839 §5.1). IL_SDP_OK or an error. */
int il_sdp_candidate_parse(const char *text, size_t len, il_sdp_candidate *out,
			   il_sdp_error *err);
/* Writes "candidate:..." (no "a=", no line end). Returns the length, or
 * IL_SDP_ERR_SPACE / IL_SDP_ERR_SYNTAX (a field that cannot be written). */
int il_sdp_candidate_write(const il_sdp_candidate *c, char *out, size_t cap);
/* A candidate of the agent, with no extensions. */
void il_sdp_candidate_from_ice(il_sdp_candidate *out, const il_ice_candidate *c);

/* ice-ufrag: 4..256 ice-chars; ice-pwd: 22..256 (RFC 8839 §5.4). */
bool il_sdp_ufrag_valid(const char *text, size_t len);
bool il_sdp_pwd_valid(const char *text, size_t len);

typedef struct il_sdp_origin {
	char username[IL_SDP_TOKEN_MAX];
	char sess_id[32];
	char sess_version[32];
	char nettype[8];          /* "IN" */
	char addrtype[8];         /* "IP4", "IP6" */
	char address[IL_SDP_HOST_MAX];
} il_sdp_origin;

typedef struct il_sdp_connection {
	bool present;
	char nettype[8];
	char addrtype[8];
	char address[IL_SDP_HOST_MAX];  /* IP, FQDN, or multicast "addr/ttl" */
} il_sdp_connection;

typedef struct il_sdp_ice {
	char ufrag[IL_ICE_UFRAG_MAX + 1];   /* "" when absent */
	char pwd[IL_ICE_PWD_MAX + 1];
	char options[IL_SDP_HOST_MAX];      /* ice-options tokens as written; "" when absent */
	bool trickle, ice2;                 /* from options */
	bool end_of_candidates;
} il_sdp_ice;

typedef struct il_sdp_line {
	const char *text;         /* into the parsed text; no line end */
	size_t len;
} il_sdp_line;

typedef struct il_sdp_remote_candidate {
	uint16_t component;
	il_addr addr;
} il_sdp_remote_candidate;

typedef struct il_sdp_media {
	char media[IL_SDP_TOKEN_MAX];       /* "audio", "video", "application" */
	uint16_t port;
	uint16_t port_count;                /* "port/count"; 0 when absent */
	char proto[IL_SDP_TOKEN_MAX];       /* "UDP/TLS/RTP/SAVPF" */
	char formats[IL_SDP_HOST_MAX];      /* "111 0 8" */
	il_sdp_connection conn;
	il_sdp_ice ice;
	bool rtcp_mux;
	il_sdp_candidate candidates[IL_SDP_MAX_CANDIDATES];
	size_t candidate_count;
	il_sdp_remote_candidate remote_candidates[IL_SDP_MAX_REMOTE_CANDIDATES];
	size_t remote_candidate_count;
	il_sdp_line lines[IL_SDP_MAX_LINES];  /* every other line of the section */
	size_t line_count;
} il_sdp_media;

typedef struct il_sdp_session {
	il_sdp_origin origin;
	il_sdp_connection conn;
	bool ice_lite;
	il_sdp_ice ice;                      /* session-level ufrag, pwd, options */
	il_sdp_line lines[IL_SDP_MAX_LINES]; /* s=, t=, a=group... (not v=, o=, c=) */
	size_t line_count;
	il_sdp_media media[IL_SDP_MAX_MEDIA];
	size_t media_count;
} il_sdp_session;

/* Parses a session description (CRLF or LF lines). */
int il_sdp_parse(const char *text, size_t len, il_sdp_session *out, il_sdp_error *err);
/* Writes it back (CRLF lines, NUL-terminated). Returns the length. */
int il_sdp_write(const il_sdp_session *s, char *out, size_t cap);

/* The ufrag and pwd that apply to a media section (its own, else the
 * session's); NULL when none. */
const char *il_sdp_media_ufrag(const il_sdp_session *s, const il_sdp_media *m);
const char *il_sdp_media_pwd(const il_sdp_session *s, const il_sdp_media *m);

#endif
