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
 *
 * "method" is the lower-case name or "0x%03x"; "length" the header's
 * length field; "classic": true (after "transaction_id", then 32 hex
 * digits) for an RFC 3489 message. Attributes in wire order; "name" is
 * the IANA name or "0x%04x" for a type we do not know. "value" by kind:
 * addresses "ip:port" / "[ipv6]:port" (XOR ones already un-XORed), text
 * as a string, 32-bit integers (LIFETIME, PRIORITY, CONNECTION-ID,
 * CHANGE-REQUEST, CACHE-TIMEOUT) as numbers, empty values as "", and
 * everything else as lowercase hex, including FINGERPRINT, the MACs and
 * 64-bit values (ICE-CONTROLLING: JSON numbers lose precision past
 * 2^53). ERROR-CODE adds "code" and "reason", UNKNOWN-ATTRIBUTES adds
 * "types" (numbers). A value not in its kind's form (possible only for
 * ignored attributes, which the decoder does not check) is hex with
 * "raw": true. Attributes that must be ignored (after MESSAGE-INTEGRITY,
 * RFC 8489 §6.3) carry "ignored": true. "integrity" adds "userhash"
 * (ok|mismatch|unchecked) when the message has USERHASH.
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
 * creds (NULL: "unchecked" where present). Long-term credentials use MD5,
 * or SHA-256 when the message's PASSWORD-ALGORITHM says so (RFC 8489
 * §9.2.2); USERHASH is checked against creds' username and realm.
 * Caller owns the result. */
json_t *il_stun_msg_to_json(const il_stun_msg *msg, const il_stun_credentials *creds);

/* One attribute's "value" as the JSON form shows it (new reference). */
json_t *il_stun_attr_value_to_json(const il_stun_msg *msg, const il_stun_attr *a);

/* Builds a message from the same shape into buf. Attributes named
 * MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT without a
 * "value" are computed (with creds; "length" 16..32 truncates -SHA256);
 * with a "value" they are written as given (hex), so broken packets can
 * be crafted. A missing "transaction_id" is an error: randomness belongs
 * to the caller. "method" may also be a number; an attribute needs
 * "type" or "name". Values are read in every form the decoder writes
 * (so decode then encode gives the same bytes); numbers are also taken
 * for CHANNEL-NUMBER, REQUESTED-TRANSPORT, EVEN-PORT, RESPONSE-PORT,
 * PASSWORD-ALGORITHM, 64-bit values and unknown types (32 bits).
 * ERROR-CODE is built from "code"/"reason" and UNKNOWN-ATTRIBUTES from
 * "types" when they have no "value". A "length", on the message or an
 * attribute, that differs from the real one is written into the header
 * as given while the bytes stay (crafting bad lengths).
 * Returns the length, or 0 with errbuf filled. */
size_t il_stun_msg_from_json(const json_t *desc, const il_stun_credentials *creds,
			     uint8_t *buf, size_t cap, char *errbuf, size_t errlen);

#endif
