/* UTF-8 well-formedness and character count (RFC 3629), for the text
 * limits of RFC 8489 §14. */
#include <string.h>

#include "stun_internal.h"

/* Counts UTF-8 characters; -1 when the bytes are not well-formed UTF-8
 * (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF). */
long il_utf8_chars(const uint8_t *s, size_t len)
{
	long chars = 0;
	size_t i = 0;
	/* ASCII fast path, 8 bytes at a time: most STUN text is ASCII. */
	for (; len - i >= 8; i += 8, chars += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
	}
	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			chars++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return -1;
		}
		if (len - i - 1 < n)
			return -1;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return -1;
		i += n + 1;
		chars++;
	}
	return chars;
}
