/* Fuzz target ice_sdp: the SDP parser of ref/sdp (RFC 8839 candidates
 * and ICE attributes, o=/c=/m= lines; RFC 8866 framing).
 *
 * Every input is parsed twice: as a whole description and as a lone
 * candidate attribute. A refusal must carry a message (and, for a
 * description, a line within the input). An accepted description must
 * write back, parse again from what was written, and write the very same
 * bytes the second time (the writer's output is a fixed point). An
 * accepted candidate must write, parse again and compare equal. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "icelab/sdp.h"

#include "fuzz_check.h"

#define OUT_MAX (256 * 1024)

static il_sdp_session s1, s2;
static char out1[OUT_MAX], out2[OUT_MAX];

static void check_candidate(const uint8_t *data, size_t size)
{
	il_sdp_candidate c, again;
	il_sdp_error err = {0, ""};
	int rc = il_sdp_candidate_parse((const char *)data, size, &c, &err);
	if (rc != IL_SDP_OK) {
		FUZZ_CHECK(rc == IL_SDP_ERR_SYNTAX && err.message[0] != '\0');
		return;
	}
	char text[1024];
	int n = il_sdp_candidate_write(&c, text, sizeof text);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof text && strlen(text) == (size_t)n);
	FUZZ_CHECK(il_sdp_candidate_parse(text, (size_t)n, &again, &err) == IL_SDP_OK);
	FUZZ_CHECK(strcmp(again.cand.foundation, c.cand.foundation) == 0);
	FUZZ_CHECK(again.cand.priority == c.cand.priority &&
		   again.cand.component == c.cand.component && again.cand.type == c.cand.type);
	FUZZ_CHECK(il_addr_equal(&again.cand.addr, &c.cand.addr) || c.cand.addr.family == 0);
	FUZZ_CHECK(strcmp(again.extensions, c.extensions) == 0);
	FUZZ_CHECK(again.generation == c.generation);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_candidate(data, size);
	il_sdp_error err = {0, ""};
	int rc = il_sdp_parse((const char *)data, size, &s1, &err);
	if (rc != IL_SDP_OK) {
		FUZZ_CHECK((rc == IL_SDP_ERR_SYNTAX || rc == IL_SDP_ERR_FULL) &&
			   err.message[0] != '\0' && err.line >= 1);
		return 0;
	}
	int n1 = il_sdp_write(&s1, out1, sizeof out1);
	if (n1 < 0) {
		/* Only a candidate the writer cannot spell (none should be). */
		FUZZ_CHECK(n1 == IL_SDP_ERR_SPACE);
		return 0;
	}
	FUZZ_CHECK(il_sdp_parse(out1, (size_t)n1, &s2, &err) == IL_SDP_OK);
	FUZZ_CHECK(s2.media_count == s1.media_count);
	for (size_t i = 0; i < s1.media_count; i++)
		FUZZ_CHECK(s2.media[i].candidate_count == s1.media[i].candidate_count &&
			   s2.media[i].port == s1.media[i].port);
	int n2 = il_sdp_write(&s2, out2, sizeof out2);
	FUZZ_CHECK(n2 == n1 && memcmp(out1, out2, (size_t)n1) == 0);
	return 0;
}
