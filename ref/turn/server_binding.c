/* The STUN Binding server (RFC 8489 §6.3, §14.2) and NAT behaviour
 * discovery (RFC 5780 §6): XOR-MAPPED-ADDRESS for anyone on any
 * transport, no authentication; with other_address configured and over
 * UDP, OTHER-ADDRESS, RESPONSE-ORIGIN, CHANGE-REQUEST, RESPONSE-PORT and
 * PADDING. Behaviour discovery is off by default: CHANGE-REQUEST and
 * RESPONSE-PORT let anyone aim a response at a third port, PADDING
 * enlarges it. The unknown-attribute check (420) runs before this, in
 * server.c, and covers the RFC 5780 attributes when discovery is off. */
#include "server_internal.h"

#include <string.h>

#define CHANGE_IP 0x4u   /* RFC 5780 §7.2: flag A */
#define CHANGE_PORT 0x2u /* flag B */
/* PADDING in a response: as long as the request's, capped at an
 * Ethernet MTU's worth (§7.6 "SHOULD be equal in length to the MTU"):
 * never longer than what the client sent, so no amplification. */
#define PADDING_MAX 1500

static void binding_classic(il_turn_server *srv, const il_five_tuple *ft,
			    const il_stun_msg *req)
{
	/* An RFC 3489 client understands MAPPED-ADDRESS only (RFC 8489 §12). */
	il_stun_builder b;
	il_stun_builder_init_classic(&b, srv->out, sizeof srv->out, IL_STUN_BINDING,
				     IL_STUN_SUCCESS, req->tid);
	il_stun_add_addr(&b, IL_ATTR_MAPPED_ADDRESS, &ft->remote);
	size_t len = il_stun_builder_finish(&b, NULL);
	if (len)
		srv->cb.send_to_client(srv->cb.user, ft, srv->out, len);
}

/* RFC 5780 §6.1 Table 1: Ca is the server IP the request did not reach,
 * Cp the port it did not reach. */
static void other_address(const il_turn_server *srv, const il_addr *da, il_addr *ca_cp)
{
	const il_addr *a1 = &srv->cfg.primary_address, *a2 = &srv->cfg.other_address;
	*ca_cp = *a2;
	/* Without a configured primary, requests are taken to arrive on it. */
	if (a1->family == a2->family && turn_ip_equal(da, a2))
		memcpy(ca_cp->ip, a1->ip, sizeof ca_cp->ip);
	ca_cp->port = (da->port == a2->port && a1->family != IL_AF_NONE) ? a1->port : a2->port;
}

void turn_handle_binding(il_turn_server *srv, const il_five_tuple *ft, const il_stun_msg *req)
{
	if (req->classic) {
		binding_classic(srv, ft, req);
		return;
	}
	bool rfc5780 = ft->transport == IL_TRANSPORT_UDP &&
		       srv->cfg.other_address.family != IL_AF_NONE;
	const il_stun_attr *cr = NULL, *rp = NULL, *pad = NULL;
	il_addr ca_cp;
	if (rfc5780) {
		cr = il_stun_msg_find(req, IL_ATTR_CHANGE_REQUEST);
		rp = il_stun_msg_find(req, IL_ATTR_RESPONSE_PORT);
		pad = il_stun_msg_find(req, IL_ATTR_PADDING);
		/* "If the Request also contains the RESPONSE-PORT attribute the
		 * server MUST return an error response of type 400." (§6.1) */
		if (rp && pad) {
			turn_reply_error(srv, ft, req, NULL, 400);
			return;
		}
		other_address(srv, &ft->local, &ca_cp);
		if (ca_cp.family != ft->local.family) {
			/* No alternate address of this family: "If the Request
			 * contains the CHANGE-REQUEST attribute and the server does
			 * not have an alternate address and port ... the server
			 * MUST generate an error response of type 420." */
			if (cr) {
				uint16_t t = IL_ATTR_CHANGE_REQUEST;
				turn_reply_420(srv, ft, req, &t, 1);
				return;
			}
			rfc5780 = false;
		}
	}
	il_five_tuple out = *ft;
	il_stun_builder b;
	turn_reply_begin(srv, &b, req, IL_STUN_SUCCESS);
	if (rfc5780) {
		uint32_t flags = 0;
		if (cr)
			il_stun_attr_get_u32(req, cr, &flags);
		if (flags & CHANGE_IP)
			memcpy(out.local.ip, ca_cp.ip, sizeof out.local.ip);
		if (flags & CHANGE_PORT)
			out.local.port = ca_cp.port;
		/* "If RESPONSE-PORT is present, the server sends the response to
		 * that port instead of the originating port." */
		if (rp) {
			const uint8_t *v = il_stun_attr_value(req, rp);
			out.remote.port = (uint16_t)(v[0] << 8 | v[1]);
		}
		/* "The server MUST include both MAPPED-ADDRESS and
		 * XOR-MAPPED-ADDRESS in its Response." */
		il_stun_add_addr(&b, IL_ATTR_MAPPED_ADDRESS, &ft->remote);
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &ft->remote);
		il_stun_add_addr(&b, IL_ATTR_RESPONSE_ORIGIN, &out.local);
		il_stun_add_addr(&b, IL_ATTR_OTHER_ADDRESS, &ca_cp);
		if (pad) {
			static const uint8_t zeros[PADDING_MAX];
			size_t n = pad->length < PADDING_MAX ? pad->length : PADDING_MAX;
			il_stun_add_raw(&b, IL_ATTR_PADDING, zeros, n & ~(size_t)3);
		}
	} else {
		il_stun_add_xor_addr(&b, IL_ATTR_XOR_MAPPED_ADDRESS, &ft->remote);
	}
	if (srv->cfg.software)
		il_stun_add_string(&b, IL_ATTR_SOFTWARE, srv->software, strlen(srv->software));
	/* FINGERPRINT when the client used it: it may be multiplexing. */
	if (req->fingerprint_index >= 0)
		il_stun_add_fingerprint(&b);
	size_t len = il_stun_builder_finish(&b, NULL);
	if (len)
		srv->cb.send_to_client(srv->cb.user, &out, srv->out, len);
}
