/* utf8.h - keeping outputs readable whatever bytes the kernel hands over.
 *
 * File names, command lines and other strings from the traced system are
 * bytes, not text: any byte but NUL may be in them, invalid UTF-8 and
 * control characters included, and an attacker chooses them.  Two rules
 * (docs/outputs.md, "Odd bytes"):
 *
 *   JSON (alerts, capture): always valid UTF-8.  Every byte that is not
 *   part of a valid UTF-8 sequence becomes U+FFFD, one per byte; control
 *   characters are escaped by the JSON printer (\n, \u0001, ...).
 *
 *   Text (the text form of alerts): one line per alert whatever the
 *   values.  C0 controls, DEL, the C1 controls U+0080..U+009F and every
 *   byte not part of a valid UTF-8 sequence are written \xNN (one per
 *   byte); everything else is kept.
 */
#ifndef VIGIL_UTF8_H
#define VIGIL_UTF8_H

#include <stddef.h>

/* The length (1-4) of the valid UTF-8 sequence at p (n bytes available):
 * shortest form, no surrogates, at most U+10FFFF; 0 when p starts none. */
size_t vg_utf8_seq(const unsigned char *p, size_t n);

/* Take over s (malloc'd, NUL-terminated) and return it with every byte
 * not part of a valid sequence replaced by U+FFFD (EF BF BD): s itself
 * when nothing needs replacing, else a new string (s freed). */
char *vg_utf8_fix(char *s);

/* Escape in (n bytes) for a text line into out (always NUL-terminated,
 * an escape never cut); returns the length written. */
size_t vg_utf8_text_escape(const char *in, size_t n, char *out, size_t cap);

#endif
