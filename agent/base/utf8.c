/* utf8.c - see utf8.h. */
#include "utf8.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t vg_utf8_seq(const unsigned char *p, size_t n)
{
	if (!n)
		return 0;
	unsigned c = p[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else {
		return 0; /* a continuation byte, C0/C1 (overlong), F5..FF */
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

char *vg_utf8_fix(char *s)
{
	size_t n = strlen(s), bad = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = vg_utf8_seq(p + i, n - i);
		if (!l) {
			bad++;
			l = 1;
		}
		i += l;
	}
	if (!bad)
		return s;
	char *out = vg_xmalloc(n + bad * 2 + 1), *o = out;
	for (size_t i = 0; i < n;) {
		size_t l = vg_utf8_seq(p + i, n - i);
		if (!l) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, p + i, l);
		o += l;
		i += l;
	}
	*o = 0;
	free(s);
	return out;
}

size_t vg_utf8_text_escape(const char *in, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	if (!cap)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l = vg_utf8_seq(p + i, n - i);
		/* C1 controls: U+0080..U+009F, C2 80..C2 9F */
		bool esc = !l || p[i] < 0x20 || p[i] == 0x7f ||
			   (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0);
		size_t count = l ? l : 1;
		if (!esc) {
			if (o + count >= cap)
				break;
			memcpy(out + o, p + i, count);
			o += count;
		} else {
			if (o + 4 * count >= cap)
				break;
			for (size_t k = 0; k < count; k++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[p[i + k] >> 4];
				out[o++] = hex[p[i + k] & 15];
			}
		}
		i += count;
	}
	out[o] = 0;
	return o;
}
