/* The sdp:ICE[,PEER[,LEGACY]] target: an SBC's media endpoint described
 * by the SDP it produced (conformance/README.md "Target sdp:").
 *
 *   ICE     the SDP the target wrote toward the ICE side: c= and the
 *           first RTP m= port are where checks go (RFC 8839 §4.2: the
 *           default destination), a=ice-ufrag / a=ice-pwd are its
 *           credentials, a=ice-lite says it is a lite agent.
 *   PEER    the SDP the ICE side gave the target (an answer, or the offer
 *           the target answered): its a=ice-ufrag / a=ice-pwd are the
 *           harness's credentials. Without it the harness's ufrag is
 *           "icelabcf" (RFC 8445 §7.3: the responder judges only its own
 *           half of USERNAME).
 *   LEGACY  the SDP the target wrote toward its other, non-ICE leg: where
 *           the harness's legacy phone sends RTP (nomination-no-redirect).
 *
 * Sockets are the udp:// target's: each client its own UDP socket toward
 * the ICE port, peers bound on the local address that routes there. */
#include "conformance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sdp.h"

#define SDP_MAX (64 * 1024)

static int read_sdp(const char *path, il_sdp_session *out, char **text, char *err, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, len, "sdp target: %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(SDP_MAX + 1);
	size_t n = buf ? fread(buf, 1, SDP_MAX + 1, f) : 0;
	fclose(f);
	if (!buf || n > SDP_MAX) {
		free(buf);
		snprintf(err, len, "sdp target: %s: %s", path, buf ? "larger than 64 KiB" : "no memory");
		return -1;
	}
	buf[n] = '\0';
	il_sdp_error e;
	if (il_sdp_parse(buf, n, out, &e) != IL_SDP_OK) {
		snprintf(err, len, "sdp target: %s: line %u: %s", path, e.line, e.message);
		free(buf);
		return -1;
	}
	*text = buf; /* the parsed session points into it */
	return 0;
}

/* The first RTP media section with a port, and its address. */
static const il_sdp_media *media_addr(const il_sdp_session *s, const char *path, il_addr *out,
				      char *err, size_t len)
{
	for (size_t i = 0; i < s->media_count; i++) {
		const il_sdp_media *m = &s->media[i];
		if (m->port == 0 || !strstr(m->proto, "RTP"))
			continue;
		const il_sdp_connection *c = m->conn.present ? &m->conn : &s->conn;
		char text[300];
		if (!c->present) {
			snprintf(err, len, "sdp target: %s: no c= line for the media", path);
			return NULL;
		}
		snprintf(text, sizeof text, strchr(c->address, ':') ? "[%s]:%u" : "%s:%u", c->address,
			 m->port);
		if (il_addr_parse(text, out) != 0) {
			snprintf(err, len, "sdp target: %s: c= address '%s' is not an IP", path,
				 c->address);
			return NULL;
		}
		return m;
	}
	snprintf(err, len, "sdp target: %s: no RTP media section with a port", path);
	return NULL;
}

cf_target *cf_target_sdp_open(const cf_target_options *opts, const char *spec, char *err,
			      size_t err_len)
{
	char files[3][1024] = {"", "", ""};
	int nfiles = 0;
	for (const char *p = spec; *p && nfiles < 3; nfiles++) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == 0 || l >= sizeof files[0]) {
			snprintf(err, err_len, "target 'sdp:%s': expected sdp:ICE[,PEER[,LEGACY]]", spec);
			return NULL;
		}
		memcpy(files[nfiles], p, l);
		p = comma ? comma + 1 : p + l;
		if (comma && nfiles == 2) {
			snprintf(err, err_len, "target 'sdp:%s': at most three files", spec);
			return NULL;
		}
	}
	if (nfiles == 0) {
		snprintf(err, err_len, "target 'sdp:': expected sdp:ICE[,PEER[,LEGACY]]");
		return NULL;
	}
	il_sdp_session *s = malloc(sizeof *s);
	char *text = NULL;
	cf_target *t = NULL;
	if (!s) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	il_addr ice_leg, legacy_leg;
	char ufrag[257] = "", pwd[257] = "", peer_ufrag[257] = "icelabcf", peer_pwd[257] = "";
	bool lite = false, has_legacy = false;
	if (read_sdp(files[0], s, &text, err, err_len) < 0)
		goto out;
	const il_sdp_media *m = media_addr(s, files[0], &ice_leg, err, err_len);
	if (!m)
		goto out;
	const char *u = il_sdp_media_ufrag(s, m), *pw = il_sdp_media_pwd(s, m);
	if (!u || !pw || !u[0] || !pw[0]) {
		snprintf(err, err_len, "sdp target: %s: no a=ice-ufrag and a=ice-pwd: not an ICE "
				       "endpoint", files[0]);
		goto out;
	}
	snprintf(ufrag, sizeof ufrag, "%s", u);
	snprintf(pwd, sizeof pwd, "%s", pw);
	lite = s->ice_lite;
	free(text);
	text = NULL;
	if (files[1][0]) {
		if (read_sdp(files[1], s, &text, err, err_len) < 0)
			goto out;
		il_addr unused;
		if (!(m = media_addr(s, files[1], &unused, err, err_len)))
			goto out;
		u = il_sdp_media_ufrag(s, m);
		pw = il_sdp_media_pwd(s, m);
		if (!u || !pw) {
			snprintf(err, err_len, "sdp target: %s: the harness's SDP has no "
					       "a=ice-ufrag/a=ice-pwd", files[1]);
			goto out;
		}
		snprintf(peer_ufrag, sizeof peer_ufrag, "%s", u);
		snprintf(peer_pwd, sizeof peer_pwd, "%s", pw);
		free(text);
		text = NULL;
	}
	if (files[2][0]) {
		if (read_sdp(files[2], s, &text, err, err_len) < 0 ||
		    !media_addr(s, files[2], &legacy_leg, err, err_len))
			goto out;
		has_legacy = true;
	}
	char hostport[IL_ADDR_STRLEN];
	il_addr_format(&ice_leg, hostport, sizeof hostport);
	t = cf_target_udp_open(opts, hostport, err, err_len);
	if (!t)
		goto out;
	t->kind = "sdp";
	t->has_ice = true;
	t->ice_leg = ice_leg;
	t->ice_lite = lite;
	snprintf(t->ice_ufrag, sizeof t->ice_ufrag, "%s", ufrag);
	snprintf(t->ice_pwd, sizeof t->ice_pwd, "%s", pwd);
	snprintf(t->ice_peer_ufrag, sizeof t->ice_peer_ufrag, "%s", peer_ufrag);
	snprintf(t->ice_peer_pwd, sizeof t->ice_peer_pwd, "%s", peer_pwd);
	t->has_legacy = has_legacy;
	if (has_legacy)
		t->legacy_leg = legacy_leg;
out:
	free(text);
	free(s);
	return t;
}
