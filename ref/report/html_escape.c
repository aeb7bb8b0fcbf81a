/* One text escaper for every report the project writes (see the header). */
#include "icelab/html_escape.h"

void il_escape_text(FILE *f, const char *s, int mode)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': fputs("&amp;", f); continue;
		case '<': fputs("&lt;", f); continue;
		case '>': fputs("&gt;", f); continue;
		case '"': fputs("&quot;", f); continue;
		case '\'':
			if (mode == IL_ESCAPE_XML) {
				fputs("&#39;", f);
				continue;
			}
			break;
		default:
			break;
		}
		if (c < 0x20 && mode == IL_ESCAPE_HTML_NO_CTRL)
			fputc(' ', f);
		else if (c < 0x20 && mode == IL_ESCAPE_XML && c != '\n' && c != '\t')
			fputc('?', f);
		else
			fputc(c, f);
	}
}
