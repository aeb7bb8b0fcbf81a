/* Helpers shared by the codec's files; not part of the public API. */
#ifndef ICELAB_STUN_INTERNAL_H
#define ICELAB_STUN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Characters in s, or -1 when s is not well-formed UTF-8 (RFC 3629 §4:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
long il_utf8_chars(const uint8_t *s, size_t len);

#endif
