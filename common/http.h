/* http: HTTP/1.1 server connections on libevent; requests parsed with
 * http-parser (Debian libhttp-parser-dev), never by hand.
 *
 * Limits at the edge: request line + headers at most HTTP_MAX_HEADER_BYTES,
 * at most HTTP_MAX_HEADERS headers, a body at most http_limits.max_body
 * (413 beyond), an idle keep-alive connection closed after idle_timeout_s,
 * a request that takes longer than request_timeout_s to arrive gets 408.
 * Malformed requests get 400 and the connection closes; everything else
 * on the server keeps running.
 *
 * Flow: the server calls the handler once per complete request. The handler
 * answers with http_respond now, or keeps the request and answers later
 * (BOSH holds requests); until then the connection reads nothing more (no
 * pipelining while one is pending). If the client goes away first,
 * on_abort (when set on the request) is called and the request freed.
 * http_take_over detaches the socket for a protocol upgrade (WebSocket).
 *
 * Ownership: requests belong to the server; the handler borrows them until
 * it responds or takes over (after which they are freed). Strings in a
 * request are owned by it. Everything runs on the daemon's loop. */
#ifndef PARLEY_HTTP_H
#define PARLEY_HTTP_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADER_BYTES 8192
#define HTTP_MAX_HEADERS 64

typedef struct http_server http_server;
typedef struct http_request http_request;

typedef struct http_limits {
    size_t max_body;       /* bytes, e.g. 1 MiB */
    int idle_timeout_s;    /* keep-alive idle, e.g. 75 */
    int request_timeout_s; /* whole request must arrive within, e.g. 30 */
    int max_connections;   /* concurrent HTTP connections; more get 503 */
} http_limits;

typedef struct http_header {
    char *name; /* lower-cased */
    char *value;
} http_header;

struct http_request {
    const char *method; /* "GET", "POST", "OPTIONS", ... */
    char *path;         /* percent-decoded path, without the query */
    char *query;        /* raw query string (after '?'), or NULL */
    http_header *headers;
    size_t nheaders;
    char *body; /* NUL-terminated (body_len bytes before the NUL) */
    size_t body_len;
    bool keep_alive;
    bool upgrade;     /* Connection: upgrade + Upgrade: header present */
    char peer_ip[48]; /* the client's address */
    bool tls;         /* arrived over TLS */
    /* set by the handler when it keeps the request: */
    void (*on_abort)(http_request *req, void *ud);
    void *abort_ud;
    void *priv; /* the server's */
};

/* The handler called for each complete request. */
typedef void (*http_handler)(void *ud, http_request *req);

/* A server; the caller frees it with http_server_free (which closes every
 * connection; pending requests get on_abort). */
http_server *http_server_new(struct event_base *base, const http_limits *limits,
                             http_handler handler, void *ud);
void http_server_free(http_server *s);
/* Listens on addr:port (IPv4 or IPv6 literal); tls may be NULL (plain HTTP)
 * or an SSL_CTX the server does not own. 0 or -1 (logged). */
int http_server_listen(http_server *s, const char *addr, int port, SSL_CTX *tls);

/* Case-insensitive header lookup; NULL if absent. */
const char *http_header_get(const http_request *req, const char *name);
/* Value of query parameter name (percent-decoded, malloc'd), or NULL. */
char *http_query_param(const http_request *req, const char *name);

/* Sends a complete response and frees req. extra_headers: NULL or
 * "Name: value\r\n..." lines. Content-Length is added; Connection: close
 * when the request asked for it or the server is closing the connection. */
void http_respond(http_request *req, int status, const char *content_type, const char *body,
                  size_t len, const char *extra_headers);
/* Detaches the connection for an upgrade: returns its bufferevent (with any
 * bytes already read after the request left in its input buffer; callbacks
 * cleared) and frees req. The caller owns the bufferevent from then on. */
struct bufferevent *http_take_over(http_request *req);

/* True if the comma-separated header value list contains token (case-
 * insensitive, surrounding blanks ignored), e.g. Connection: keep-alive, Upgrade. */
bool http_list_has(const char *list, const char *token);
/* The Sec-WebSocket-Accept value (RFC 6455 4.2.2) for a Sec-WebSocket-Key
 * header, malloc'd; NULL when the key is not 16 bytes in base64. */
char *http_ws_accept(const char *key);

/* Writes the header of one unfragmented, unmasked (server) WebSocket frame
 * of len payload bytes into h; returns its length (2, 4 or 10). */
size_t http_ws_frame_header(unsigned char h[10], int opcode, size_t len);

/* Number of open HTTP connections (for /metrics). */
int http_server_connections(const http_server *s);

#endif
