/* Escaping text for the HTML and XML reports (conformance, capture
 * analysis, the simulator's matrix): one escaper, three policies for
 * control characters, because each report has its own reader. */
#ifndef ICELAB_HTML_ESCAPE_H
#define ICELAB_HTML_ESCAPE_H

#include <stdio.h>

enum il_escape_mode {
	IL_ESCAPE_HTML = 0,        /* & < > " escaped; control characters kept */
	IL_ESCAPE_HTML_NO_CTRL,    /* as HTML; every control character becomes a space */
	IL_ESCAPE_XML,             /* as HTML plus '; controls but \n and \t become '?'
	                              (XML 1.0 forbids them: junit.xml) */
};

/* Writes s (NULL: nothing) to f, escaped for mode. */
void il_escape_text(FILE *f, const char *s, int mode);

#endif
