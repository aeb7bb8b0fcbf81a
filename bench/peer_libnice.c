/* The named peer: libnice's STUN agent (libnice-dev, stun/stunagent.h),
 * used the way libnice's own ICE code uses it.
 *
 * Validation: an agent in STUN_COMPATIBILITY_RFC5389 with short-term
 * credentials and FINGERPRINT; stun_agent_validate() with libnice's own
 * stun_agent_default_validater() mapping the USERNAME to its password. It
 * checks framing, FINGERPRINT, MESSAGE-INTEGRITY (HMAC-SHA1 keyed from the
 * password on every call: libnice keeps no keyed state) and unknown
 * comprehension-required attributes.
 *
 * A response is only accepted for a transaction the agent has sent: the
 * agent's saved-id slot 0 holds the RFC 5769 transaction and its key, and
 * is re-armed (one store, `valid = true`) before each call, since a
 * successful validation consumes it.
 *
 * The long-term message (RFC 5769 §2.4) is validated by a second agent
 * with STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS and no FINGERPRINT; libnice
 * does no SASLprep, so it is given the prepared password "TheMatrIX", and
 * it recomputes MD5(username:realm:password) on every call.
 *
 * Encoding: stun_message_init() with the caller's transaction id (as
 * icelab's builder takes one; stun_agent_init_request() would draw a
 * random id), stun_message_append*(), stun_agent_finish_message() for
 * MESSAGE-INTEGRITY and FINGERPRINT. finish_message() records each request
 * as sent; stun_agent_forget_transaction() releases it in the loop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <stun/stunagent.h>

#include "bench.h"

static const uint16_t known_attributes[] = {
	STUN_ATTRIBUTE_MAPPED_ADDRESS,
	STUN_ATTRIBUTE_USERNAME,
	STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
	STUN_ATTRIBUTE_ERROR_CODE,
	STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
	STUN_ATTRIBUTE_REALM,
	STUN_ATTRIBUTE_NONCE,
	STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
	STUN_ATTRIBUTE_PRIORITY,
	STUN_ATTRIBUTE_USE_CANDIDATE,
	0,
};

#define SHORT_TERM_FLAGS (STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT)

static const char *status_name(StunValidationStatus s)
{
	switch (s) {
	case STUN_VALIDATION_SUCCESS: return "success";
	case STUN_VALIDATION_NOT_STUN: return "not-stun";
	case STUN_VALIDATION_INCOMPLETE_STUN: return "incomplete-stun";
	case STUN_VALIDATION_BAD_REQUEST: return "bad-request";
	case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST: return "unauthorized-bad-request";
	case STUN_VALIDATION_UNAUTHORIZED: return "unauthorized";
	case STUN_VALIDATION_UNMATCHED_RESPONSE: return "unmatched-response";
	case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE: return "unknown-request-attribute";
	case STUN_VALIDATION_UNKNOWN_ATTRIBUTE: return "unknown-attribute";
	case STUN_VALIDATION_FORBIDDEN: return "forbidden";
	}
	return "?";
}

static void debug_off(void)
{
	static bool done;
	if (!done) {
		stun_debug_disable();
		done = true;
	}
}

/* ---- validation ---- */

typedef struct libnice_validate_ctx {
	StunAgent agent;
	StunDefaultValidaterData creds[2];
	const uint8_t *buf;
	size_t len;
	bool response;
	char username[64];
	char password[64];
} libnice_validate_ctx;

static StunValidationStatus validate_one(libnice_validate_ctx *c)
{
	StunMessage msg;
	if (c->response)
		c->agent.sent_ids[0].valid = true;
	return stun_agent_validate(&c->agent, &msg, c->buf, c->len,
				   stun_agent_default_validater, c->creds);
}

size_t libnice_run_validate(void *ctx, size_t n)
{
	libnice_validate_ctx *c = ctx;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += validate_one(c) != STUN_VALIDATION_SUCCESS;
	return bad;
}

static void validate_setup(libnice_validate_ctx *c, const uint8_t *buf, size_t len,
			   bool long_term)
{
	debug_off();
	c->buf = buf;
	c->len = len;
	if (long_term) {
		stun_agent_init(&c->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
				STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS);
		snprintf(c->username, sizeof(c->username), "%s", RFC5769_LT_USERNAME);
		snprintf(c->password, sizeof(c->password), "%s", RFC5769_LT_PASSWORD_PREPPED);
	} else {
		stun_agent_init(&c->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
				SHORT_TERM_FLAGS);
		snprintf(c->username, sizeof(c->username), "%s", RFC5769_USERNAME);
		snprintf(c->password, sizeof(c->password), "%s", RFC5769_PASSWORD);
	}
	c->creds[0] = (StunDefaultValidaterData){
		.username = (uint8_t *)c->username,
		.username_len = strlen(c->username),
		.password = (uint8_t *)c->password,
		.password_len = strlen(c->password),
	};
	c->creds[1] = (StunDefaultValidaterData){0};
	/* C1, the class bit 0x0100 of the type, is set in success and
	 * error responses (RFC 8489 §5). */
	c->response = (buf[0] & 0x01) != 0;
	if (c->response) {
		StunAgentSavedIds *s = &c->agent.sent_ids[0];
		memcpy(s->id, buf + 4, sizeof(s->id));
		s->method = STUN_BINDING;
		s->key = (uint8_t *)c->password;
		s->key_len = strlen(c->password);
		s->long_term_valid = false;
		s->valid = true;
	}
}

void *libnice_validate_new(const bench_msg *m, char *why, size_t why_len)
{
	libnice_validate_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	validate_setup(c, m->buf, m->len, m->long_term);
	StunValidationStatus s = validate_one(c);
	if (s != STUN_VALIDATION_SUCCESS) {
		snprintf(why, why_len, "stun_agent_validate returned %s", status_name(s));
		free(c);
		return NULL;
	}
	return c;
}

bool libnice_validate_once(const uint8_t *buf, size_t len, char *why, size_t why_len)
{
	libnice_validate_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return false;
	}
	validate_setup(c, buf, len, false);
	StunValidationStatus s = validate_one(c);
	free(c);
	if (s != STUN_VALIDATION_SUCCESS) {
		snprintf(why, why_len, "stun_agent_validate returned %s", status_name(s));
		return false;
	}
	return true;
}

/* ---- encoding ---- */

typedef struct libnice_encode_ctx {
	StunAgent agent;
	bool response;
	StunTransactionId id;        /* magic cookie + the 12-byte tid */
	uint8_t key[64];
	size_t key_len;
	char username[64];
	StunMessage request;         /* the validated request a response answers */
	uint8_t request_buf[256];
	struct sockaddr_storage mapped;
	bench_encoded out;
} libnice_encode_ctx;

static size_t encode_request(libnice_encode_ctx *c)
{
	StunMessage msg = {.agent = &c->agent, .buffer = c->out.buf,
			   .buffer_len = sizeof(c->out.buf)};
	if (!stun_message_init(&msg, STUN_REQUEST, STUN_BINDING, c->id))
		return 0;
	if (stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, c->username) ||
	    stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, bench_ice.priority) ||
	    stun_message_append64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, bench_ice.tie_breaker) ||
	    stun_message_append_flag(&msg, STUN_ATTRIBUTE_USE_CANDIDATE))
		return 0;
	size_t len = stun_agent_finish_message(&c->agent, &msg, c->key, c->key_len);
	stun_agent_forget_transaction(&c->agent, c->id);
	return len;
}

static size_t encode_response(libnice_encode_ctx *c)
{
	StunMessage msg;
	if (!stun_agent_init_response(&c->agent, &msg, c->out.buf, sizeof(c->out.buf),
				      &c->request))
		return 0;
	if (stun_message_append_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &c->mapped,
					 sizeof(struct sockaddr_in)))
		return 0;
	return stun_agent_finish_message(&c->agent, &msg, c->request.key, c->request.key_len);
}

size_t libnice_run_encode(void *ctx, size_t n)
{
	libnice_encode_ctx *c = ctx;
	size_t bad = 0;
	size_t want = c->out.len;
	if (c->response) {
		for (size_t i = 0; i < n; i++)
			bad += encode_response(c) != want;
	} else {
		for (size_t i = 0; i < n; i++)
			bad += encode_request(c) != want;
	}
	return bad;
}

void *libnice_encode_new(bool response, char *why, size_t why_len)
{
	debug_off();
	libnice_encode_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	stun_agent_init(&c->agent, known_attributes, STUN_COMPATIBILITY_RFC5389, SHORT_TERM_FLAGS);
	c->response = response;
	uint32_t cookie = htonl(STUN_MAGIC_COOKIE);
	memcpy(c->id, &cookie, 4);
	memcpy(c->id + 4, bench_ice.tid, sizeof(bench_ice.tid));
	snprintf(c->username, sizeof(c->username), "%s", bench_ice.username);
	c->key_len = strlen(bench_ice.password);
	memcpy(c->key, bench_ice.password, c->key_len);

	struct sockaddr_in *sin = (struct sockaddr_in *)&c->mapped;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(bench_ice.mapped_port);
	memcpy(&sin->sin_addr, bench_ice.mapped_ip, 4);

	if (response) {
		/* A response answers a request the agent validated: its
		 * transaction id and key come from that StunMessage. */
		memcpy(c->request_buf, rfc5769_request, sizeof(rfc5769_request));
		StunDefaultValidaterData creds[2] = {
			{(uint8_t *)c->username, strlen(c->username), c->key, c->key_len},
			{0},
		};
		StunValidationStatus s = stun_agent_validate(&c->agent, &c->request, c->request_buf,
							     sizeof(rfc5769_request),
							     stun_agent_default_validater, creds);
		if (s != STUN_VALIDATION_SUCCESS) {
			snprintf(why, why_len, "validating the request to answer: %s",
				 status_name(s));
			free(c);
			return NULL;
		}
		c->out.len = encode_response(c);
	} else {
		c->out.len = encode_request(c);
	}
	if (c->out.len == 0) {
		snprintf(why, why_len, "libnice encode failed");
		free(c);
		return NULL;
	}
	return c;
}

const bench_encoded *libnice_encode_output(const void *ctx)
{
	return &((const libnice_encode_ctx *)ctx)->out;
}

void libnice_case_free(void *ctx)
{
	free(ctx);
}
