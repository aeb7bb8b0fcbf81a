/* The JSON form of a STUN message, shared by `icelab stun decode/encode`,
 * the vector runner and the conformance harness (jansson).
 *
 * Shape (README and issue #2):
 * {"method":"binding","class":"request|indication|success|error",
 *  "transaction_id":"<24 lowercase hex>","length":88,
 *  "attributes":[{"type":32,"name":"XOR-MAPPED-ADDRESS","length":8,
 *                 "value":"192.0.2.1:32853"}],
 *  "integrity":{"message_integrity":"ok|mismatch|absent|unchecked",
 *               "message_integrity_sha256":"...","fingerprint":"ok|mismatch|absent"}}
 */
#ifndef ICELAB_STUN_JSON_H
#define ICELAB_STUN_JSON_H

#include <jansson.h>

#include "icelab/stun.h"
#include "icelab/stun_integrity.h"

/* Credentials for verification or for computing integrity on encode. */
typedef struct il_stun_credentials {
	const char *username; /* long-term when username and realm are set */
	const char *realm;
	const char *password; /* short-term when only the password is set */
} il_stun_credentials;

/* The JSON view of a decoded message; integrity verdicts computed with
 * creds (NULL: "unchecked" where present). Caller owns the result. */
json_t *il_stun_msg_to_json(const il_stun_msg *msg, const il_stun_credentials *creds);

/* One attribute's "value" as the JSON form shows it (new reference). */
json_t *il_stun_attr_value_to_json(const il_stun_msg *msg, const il_stun_attr *a);

/* Builds a message from the same shape into buf. Attributes named
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT without a
 * "value" are computed (with creds); with a "value" they are written
 * as given (hex), so broken packets can be crafted. A missing
 * "transaction_id" is an error: randomness belongs to the caller.
 * Returns the length, or 0 with errbuf filled. */
size_t il_stun_msg_from_json(const json_t *desc, const il_stun_credentials *creds,
			     uint8_t *buf, size_t cap, char *errbuf, size_t errlen);

#endif
