/* webroot: static files for the browser client from a configured web root:
 * GET and HEAD only; MIME types by extension; index.html for "/" and for
 * room paths such as "/myroom" (any path without a dot in its last segment
 * that is not a file); Cache-Control (no-cache for HTML, a day for the
 * rest) and Last-Modified/If-Modified-Since (304); no path traversal
 * (".." segments, NUL, backslashes and symlinks leaving the root are 404);
 * files larger than WEBROOT_MAX_FILE are refused (413 is wrong for a
 * response: 500 with a log line). Main loop; file reads are small and
 * bounded. */
#ifndef PARLEY_WEBROOT_H
#define PARLEY_WEBROOT_H

#include "http.h"

#define WEBROOT_MAX_FILE (16 * 1024 * 1024)

/* Answers req (GET/HEAD) from root; takes the request (responds). */
void webroot_serve(http_request *req, const char *root);
/* The MIME type for a file name ("application/octet-stream" if unknown). */
const char *webroot_mime(const char *name);

#endif
