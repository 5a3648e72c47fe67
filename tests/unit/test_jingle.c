/* Unit tests for common/jingle.c: the session-initiate of
 * jitsi-protocol.md §3.2 and the session-accept of §3.4 parsed field by
 * field, transport-info, source-add/remove, session-terminate and
 * session-info, the unknown action, the build -> text -> parse round trips
 * and the shape of a built session-initiate, every source validation
 * failure with its message, and hostile bounds. Stanzas are written as XML
 * text and parsed with xmpp_stanza_new_from_string. */
#include "jingle.h"
#include "test.h"

#include <stdarg.h>
#include <stdbool.h>

#define JNS "xmlns='urn:xmpp:jingle:1'"
#define ICE "xmlns='urn:xmpp:jingle:transports:ice-udp:1'"
#define DTLS "xmlns='urn:xmpp:jingle:apps:dtls:0'"
#define RTP "xmlns='urn:xmpp:jingle:apps:rtp:1'"
#define HDREXT "xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'"
#define RTCPFB "xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'"
#define SSMA "xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'"
#define JITMEET "xmlns='http://jitsi.org/jitmeet'"
#define GROUPING "xmlns='urn:xmpp:jingle:apps:grouping:0'"
#define FOCUS "xmlns='http://jitsi.org/protocol/focus'"
#define SCTP "xmlns='urn:xmpp:jingle:transports:dtls-sctp:1'"
#define WS "xmlns='http://jitsi.org/protocol/colibri'"
#define SID "2m7r1ukn3ij5a"
#define FP                                                                                         \
    "F1:05:9A:3C:44:0B:7E:21:D9:6A:5F:10:C2:88:3B:7D:E4:19:02:AA:6C:5B:31:F0:9E:47:D2:68:1A:"      \
    "83:BE:C0"

/* The bridge transport copied into every content of §3.2. */
#define BRIDGE_TRANSPORT_BODY                                                                      \
    "<rtcp-mux/>"                                                                                  \
    "<fingerprint " DTLS " hash='sha-256' setup='actpass'>" FP "</fingerprint>"                    \
    "<candidate component='1' foundation='1' generation='0' id='c1' ip='203.0.113.7' "             \
    "network='0' port='10000' priority='2130706431' protocol='udp' type='host'/>"                  \
    "<web-socket " WS " url='wss://meet.example/colibri-ws/jvb1/c1/7b4f1a2c?pwd=x'/>"
#define BRIDGE_TRANSPORT                                                                           \
    "<transport " ICE                                                                              \
    " ufrag='26ant1ioqu7qnr' pwd='9q8uj7tg6j4rc4i6ulc1pmsq9'>" BRIDGE_TRANSPORT_BODY               \
    "</transport>"

/* §3.2, the elided parts filled in. */
static const char initiate[] =
    "<iq type='set' to='myroom@muc.meet.jitsi/7b4f1a2c' id='j1'>"
    "<jingle " JNS " action='session-initiate' sid='" SID "' "
    "initiator='focus@auth.meet.jitsi/focus'>"
    " <content creator='initiator' name='audio' senders='both'>"
    "  <description " RTP " media='audio' maxptime='60'>"
    "   <payload-type id='111' name='opus' clockrate='48000' channels='2'>"
    "    <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>"
    "    <rtcp-fb " RTCPFB " type='transport-cc'/>"
    "   </payload-type>"
    "   <payload-type id='126' name='telephone-event' clockrate='8000'/>"
    "   <rtp-hdrext " HDREXT " id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>"
    "   <rtp-hdrext " HDREXT " id='5' "
    "uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'/>"
    "   <extmap-allow-mixed " HDREXT "/>"
    "   <rtcp-mux/>"
    "   <source " SSMA " ssrc='3191927963' name='jvb-a0'>"
    "    <ssrc-info " JITMEET " owner='jvb'/>"
    "    <parameter name='msid' value='mixedmslabel mixedlabelaudio0'/>"
    "   </source>"
    "   <source " SSMA " ssrc='1500000001' name='a1b2c3d4-a0'>"
    "    <ssrc-info " JITMEET " owner='a1b2c3d4'/>"
    "    <parameter name='msid' value='s-a1b2 t-a1b2-audio'/>"
    "   </source>"
    "  </description>"
    "  " BRIDGE_TRANSPORT " </content>"
    " <content creator='initiator' name='video' senders='both'>"
    "  <description " RTP " media='video'>"
    "   <payload-type id='100' name='VP8' clockrate='90000'>"
    "    <rtcp-fb " RTCPFB " type='ccm' subtype='fir'/>"
    "    <rtcp-fb " RTCPFB " type='nack'/>"
    "    <rtcp-fb " RTCPFB " type='nack' subtype='pli'/>"
    "    <rtcp-fb " RTCPFB " type='transport-cc'/>"
    "   </payload-type>"
    "   <payload-type id='96' name='rtx' clockrate='90000'><parameter name='apt' value='100'/>"
    "    <rtcp-fb " RTCPFB " type='ccm' subtype='fir'/><rtcp-fb " RTCPFB " type='nack'/>"
    "    <rtcp-fb " RTCPFB " type='nack' subtype='pli'/></payload-type>"
    "   <rtp-hdrext " HDREXT " id='3' "
    "uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'/>"
    "   <rtp-hdrext " HDREXT " id='5' "
    "uri='http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'/>"
    "   <extmap-allow-mixed " HDREXT "/>"
    "   <rtcp-mux/>"
    "   <source " SSMA " ssrc='1863439907' name='jvb-v0'>"
    "    <ssrc-info " JITMEET " owner='jvb'/>"
    "    <parameter name='msid' value='mixedmslabel mixedlabelvideo0'/>"
    "   </source>"
    "   <source " SSMA " ssrc='1500000010' name='a1b2c3d4-v0' videoType='camera'>"
    "    <ssrc-info " JITMEET " owner='a1b2c3d4'/>"
    "    <parameter name='msid' value='s-a1b2 t-a1b2-video'/>"
    "   </source>"
    "   <source " SSMA " ssrc='1500000011' name='a1b2c3d4-v0' videoType='camera'>"
    "    <ssrc-info " JITMEET " owner='a1b2c3d4'/>"
    "    <parameter name='msid' value='s-a1b2 t-a1b2-video'/>"
    "   </source>"
    "   <ssrc-group " SSMA " semantics='FID'>"
    "    <source ssrc='1500000010'/><source ssrc='1500000011'/>"
    "   </ssrc-group>"
    "  </description>"
    "  " BRIDGE_TRANSPORT " </content>"
    " <content creator='initiator' name='data' senders='both'>"
    "  <description " RTP " media='application'/>"
    "  <transport " ICE " ufrag='26ant1ioqu7qnr' pwd='9q8uj7tg6j4rc4i6ulc1pmsq9'>"
    "   <sctpmap " SCTP " number='5000' protocol='webrtc-datachannel' streams='1024'/>"
    "   " BRIDGE_TRANSPORT_BODY "  </transport>"
    " </content>"
    " <group " GROUPING " semantics='BUNDLE'>"
    "  <content name='audio'/><content name='video'/><content name='data'/>"
    " </group>"
    " <bridge-session " FOCUS " id='0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11' region='eu-central-1'/>"
    " <json-message " JITMEET ">{}</json-message>"
    "</jingle>"
    "</iq>";

/* The §3.4 session-accept, with audio and data filled in. */
static const char accept_xml[] =
    "<iq type='set' to='focus@auth.meet.jitsi/focus' id='ja'>"
    "<jingle " JNS " action='session-accept' sid='" SID "' "
    "initiator='focus@auth.meet.jitsi/focus' responder='myroom@muc.meet.jitsi/7b4f1a2c'>"
    " <group " GROUPING " semantics='BUNDLE'>"
    "  <content name='audio'/><content name='video'/><content name='data'/></group>"
    " <content creator='responder' name='audio' senders='both'>"
    "  <description " RTP " media='audio'>"
    "   <payload-type id='111' name='opus' clockrate='48000' channels='2'/>"
    "   <source " SSMA " ssrc='1' name='7b4f1a2c-a0'><parameter name='msid' value='s1 a1'/>"
    "   </source>"
    "   <rtcp-mux/>"
    "  </description>"
    "  <transport " ICE " ufrag='Xk9a' pwd='asd88fgpdd777uzjYhagZg'>"
    "   <fingerprint " DTLS " hash='sha-256' setup='active'>3C:4A:5B:6C</fingerprint>"
    "  </transport>"
    " </content>"
    " <content creator='responder' name='video' senders='both'>"
    "  <initial-last-n xmlns='jitsi:colibri2' value='20'/>"
    "  <description " RTP " media='video'>"
    "   <payload-type id='100' name='VP8' clockrate='90000'>"
    "    <rtcp-fb " RTCPFB " type='nack'/></payload-type>"
    "   <source " SSMA " ssrc='11' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='msid' value='s1 t1'/></source>"
    "   <source " SSMA " ssrc='12' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='msid' value='s1 t1'/></source>"
    "   <source " SSMA " ssrc='13' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='msid' value='s1 t1'/></source>"
    "   <source " SSMA " ssrc='21' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='msid' value='s1 t1'/></source>"
    "   <source " SSMA " ssrc='22' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='msid' value='s1 t1'/></source>"
    "   <source " SSMA " ssrc='23' name='7b4f1a2c-v0' videoType='camera'>"
    "    <parameter name='cname' value='x'/><parameter name='msid' value='s1 t1'/></source>"
    "   <ssrc-group " SSMA " semantics='SIM'>"
    "    <source ssrc='11'/><source ssrc='12'/><source ssrc='13'/></ssrc-group>"
    "   <ssrc-group " SSMA " semantics='FID'><source ssrc='11'/><source ssrc='21'/></ssrc-group>"
    "   <ssrc-group " SSMA " semantics='FID'><source ssrc='12'/><source ssrc='22'/></ssrc-group>"
    "   <ssrc-group " SSMA " semantics='FID'><source ssrc='13'/><source ssrc='23'/></ssrc-group>"
    "   <rtcp-mux/>"
    "  </description>"
    "  <transport " ICE " ufrag='Xk9a' pwd='asd88fgpdd777uzjYhagZg'>"
    "   <fingerprint " DTLS " hash='sha-256' setup='active'>3C:4A:5B:6C</fingerprint>"
    "  </transport>"
    " </content>"
    " <content creator='responder' name='data' senders='both'>"
    "  <description " RTP " media='application'/>"
    "  <transport " ICE " ufrag='Xk9a' pwd='asd88fgpdd777uzjYhagZg'>"
    "   <sctpmap " SCTP " number='5000' protocol='webrtc-datachannel' streams='0'/>"
    "   <fingerprint " DTLS " hash='sha-256' setup='active'>3C:4A:5B:6C</fingerprint>"
    "  </transport>"
    " </content>"
    "</jingle>"
    "</iq>";

static xmpp_ctx_t *new_ctx(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    CHECK(ctx != NULL);
    return ctx;
}

/* The <jingle> inside an iq, or the root itself. */
static xmpp_stanza_t *payload(xmpp_stanza_t *s)
{
    if (strcmp(xmpp_stanza_get_name(s), "iq") != 0)
        return s;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            return c;
    return s;
}

static jingle_msg *new_msg(void)
{
    jingle_msg *m = calloc(1, sizeof *m);
    CHECK(m != NULL);
    return m;
}

/* Parses xml (an iq or a bare <jingle>) into *m; err gets the message. */
static int parse_xml(const char *xml, jingle_msg *m, char *err, size_t errlen)
{
    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);
    CHECK(s != NULL);
    int rc = jingle_parse(payload(s), m, err, errlen);
    xmpp_stanza_release(s);
    xmpp_ctx_free(ctx);
    return rc;
}

static char *to_text(xmpp_stanza_t *s)
{
    char *buf = NULL;
    size_t len = 0;
    CHECK(xmpp_stanza_to_text(s, &buf, &len) == XMPP_EOK);
    return buf;
}

/* Builds m, renders it as text, parses the text into *out. */
static void round_trip(const jingle_msg *m, jingle_msg *out)
{
    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *built = jingle_build(ctx, m);
    char *text = to_text(built);
    xmpp_stanza_release(built);
    char err[256];
    int rc = parse_xml(text, out, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "reparse failed: %s\n%s\n", err, text);
    CHECK_INT(rc, 0);
    xmpp_free(ctx, text);
    xmpp_ctx_free(ctx);
}

/* Parsing xml fails with exactly the message want. */
static void expect_parse_error(const char *xml, const char *want)
{
    jingle_msg *m = new_msg();
    char err[256] = "";
    CHECK_INT(parse_xml(xml, m, err, sizeof err), -1);
    CHECK_STR(err, want);
    CHECK_INT(m->n_contents, 0);
    CHECK_STR(m->sid, "");
    free(m);
}

/* A bare <jingle> of action with body as its children. */
static char *jingle_doc(const char *action, const char *body)
{
    char *s = NULL;
    CHECK(asprintf(&s, "<jingle " JNS " action='%s' sid='" SID "'>%s</jingle>", action, body) > 0);
    return s;
}

/* ---- parsing ---- */

static void check_bridge_transport(const jingle_content *ct)
{
    CHECK(ct->has_transport);
    const c2_transport *t = &ct->transport;
    CHECK(t->present && t->has_ice && t->rtcp_mux);
    CHECK_STR(t->ufrag, "26ant1ioqu7qnr");
    CHECK_STR(t->pwd, "9q8uj7tg6j4rc4i6ulc1pmsq9");
    CHECK_INT(t->n_fingerprints, 1);
    CHECK_STR(t->fingerprints[0].hash, "sha-256");
    CHECK_STR(t->fingerprints[0].setup, "actpass");
    CHECK_STR(t->fingerprints[0].value, FP);
    CHECK_INT(t->n_candidates, 1);
    const c2_candidate *cd = &t->candidates[0];
    CHECK_INT(cd->component, 1);
    CHECK_STR(cd->foundation, "1");
    CHECK_STR(cd->id, "c1");
    CHECK_STR(cd->ip, "203.0.113.7");
    CHECK(!cd->mdns && !cd->is_tcp);
    CHECK_INT(cd->port, 10000);
    CHECK_INT(cd->priority, 2130706431u);
    CHECK_STR(cd->protocol, "udp");
    CHECK_STR(cd->type, "host");
    CHECK(t->has_web_socket);
    CHECK_STR(t->web_socket_url, "wss://meet.example/colibri-ws/jvb1/c1/7b4f1a2c?pwd=x");
}

/* The fields of the parsed §3.2 session-initiate (also after round trips). */
static void check_initiate(const jingle_msg *m)
{
    CHECK_INT(m->action, JINGLE_SESSION_INITIATE);
    CHECK_STR(m->sid, SID);
    CHECK_STR(m->initiator, "focus@auth.meet.jitsi/focus");
    CHECK_STR(m->responder, "");
    CHECK_INT(m->n_contents, 3);

    const jingle_content *a = &m->contents[0];
    CHECK_STR(a->name, "audio");
    CHECK_STR(a->creator, "initiator");
    CHECK_STR(a->senders, "both");
    CHECK_STR(a->media, "audio");
    CHECK_INT(a->maxptime, 60);
    CHECK_INT(a->n_payload_types, 2);
    CHECK_INT(a->payload_types[0].id, 111);
    CHECK_STR(a->payload_types[0].name, "opus");
    CHECK_INT(a->payload_types[0].clockrate, 48000);
    CHECK_INT(a->payload_types[0].channels, 2);
    CHECK_INT(a->payload_types[0].n_params, 2);
    CHECK_STR(a->payload_types[0].params[1].name, "useinbandfec");
    CHECK_STR(a->payload_types[0].params[1].value, "1");
    CHECK_INT(a->payload_types[0].n_rtcp_fbs, 1);
    CHECK_STR(a->payload_types[0].rtcp_fbs[0].type, "transport-cc");
    CHECK_INT(a->payload_types[1].id, 126);
    CHECK_STR(a->payload_types[1].name, "telephone-event");
    CHECK_INT(a->payload_types[1].channels, 0);
    CHECK_INT(a->n_hdrexts, 2);
    CHECK_INT(a->hdrexts[0].id, 1);
    CHECK_STR(a->hdrexts[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    CHECK_INT(a->hdrexts[1].id, 5);
    CHECK(a->extmap_allow_mixed && a->rtcp_mux);
    CHECK_INT(a->n_sources, 2);
    CHECK_INT(a->sources[0].ssrc, 3191927963u);
    CHECK_STR(a->sources[0].name, "jvb-a0");
    CHECK_STR(a->sources[0].owner, "jvb");
    CHECK_STR(a->sources[0].msid, "mixedmslabel mixedlabelaudio0");
    CHECK_STR(a->sources[0].video_type, "");
    CHECK_INT(a->sources[1].ssrc, 1500000001u);
    CHECK_STR(a->sources[1].name, "a1b2c3d4-a0");
    CHECK_STR(a->sources[1].owner, "a1b2c3d4");
    CHECK_STR(a->sources[1].msid, "s-a1b2 t-a1b2-audio");
    CHECK_INT(a->n_groups, 0);
    CHECK(!a->initial_last_n.present);
    check_bridge_transport(a);
    CHECK(!a->transport.sctp_present);

    const jingle_content *v = &m->contents[1];
    CHECK_STR(v->name, "video");
    CHECK_STR(v->media, "video");
    CHECK_INT(v->maxptime, 0);
    CHECK_INT(v->n_payload_types, 2);
    CHECK_STR(v->payload_types[0].name, "VP8");
    CHECK_INT(v->payload_types[0].n_rtcp_fbs, 4);
    CHECK_STR(v->payload_types[0].rtcp_fbs[0].type, "ccm");
    CHECK_STR(v->payload_types[0].rtcp_fbs[0].subtype, "fir");
    CHECK_STR(v->payload_types[0].rtcp_fbs[2].subtype, "pli");
    CHECK_INT(v->payload_types[1].id, 96);
    CHECK_STR(v->payload_types[1].params[0].name, "apt");
    CHECK_STR(v->payload_types[1].params[0].value, "100");
    CHECK_INT(v->n_hdrexts, 2);
    CHECK_INT(v->hdrexts[0].id, 3);
    CHECK(v->extmap_allow_mixed && v->rtcp_mux);
    CHECK_INT(v->n_sources, 3);
    CHECK_STR(v->sources[0].name, "jvb-v0");
    CHECK_INT(v->sources[2].ssrc, 1500000011u);
    CHECK_STR(v->sources[2].video_type, "camera");
    CHECK_STR(v->sources[2].owner, "a1b2c3d4");
    CHECK_STR(v->sources[2].msid, "s-a1b2 t-a1b2-video");
    CHECK_INT(v->n_groups, 1);
    CHECK_STR(v->groups[0].semantics, "FID");
    CHECK_INT(v->groups[0].n_ssrcs, 2);
    CHECK_INT(v->groups[0].ssrcs[0], 1500000010u);
    CHECK_INT(v->groups[0].ssrcs[1], 1500000011u);
    check_bridge_transport(v);

    const jingle_content *d = &m->contents[2];
    CHECK_STR(d->name, "data");
    CHECK_STR(d->media, "application");
    CHECK_INT(d->n_payload_types + d->n_hdrexts + d->n_sources + d->n_groups, 0);
    CHECK(!d->rtcp_mux && !d->extmap_allow_mixed);
    check_bridge_transport(d);
    CHECK(d->transport.sctp_present);
    CHECK_INT(d->transport.sctp_port, 5000);

    CHECK(m->has_bundle);
    CHECK_INT(m->n_bundle, 3);
    CHECK_STR(m->bundle[0], "audio");
    CHECK_STR(m->bundle[2], "data");
    CHECK(m->bridge_session.present);
    CHECK_STR(m->bridge_session.id, "0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11");
    CHECK_STR(m->bridge_session.region, "eu-central-1");
    CHECK(!m->bridge_session.restart && !m->bridge_session.ice_restart);
    CHECK(!m->reason.present);
}

static void test_parse_session_initiate(void)
{
    jingle_msg *m = new_msg();
    char err[256];
    int rc = parse_xml(initiate, m, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    check_initiate(m);
    /* the focus's own offer carries the bridge's sources: not a client set */
    CHECK_INT(jingle_validate_sources(m, "a1b2c3d4", 20, err, sizeof err), -1);
    CHECK_STR(err, "source name 'jvb-a0' in content 'audio' is not a1b2c3d4-a<N>");
    free(m);
}

static void test_parse_session_accept(void)
{
    jingle_msg *m = new_msg();
    char err[256];
    int rc = parse_xml(accept_xml, m, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    CHECK_INT(m->action, JINGLE_SESSION_ACCEPT);
    CHECK_STR(m->responder, "myroom@muc.meet.jitsi/7b4f1a2c");
    CHECK(m->has_bundle);
    CHECK_INT(m->n_bundle, 3);
    CHECK_INT(m->n_contents, 3);
    const jingle_content *a = &m->contents[0], *v = &m->contents[1], *d = &m->contents[2];
    CHECK_STR(a->creator, "responder");
    CHECK_INT(a->n_sources, 1);
    CHECK_STR(a->sources[0].msid, "s1 a1");
    CHECK_STR(a->sources[0].owner, "");
    CHECK(a->has_transport);
    CHECK_STR(a->transport.ufrag, "Xk9a");
    CHECK_STR(a->transport.fingerprints[0].setup, "active");
    CHECK_INT(a->transport.n_candidates, 0);

    CHECK_STR(v->name, "video");
    CHECK(v->initial_last_n.present);
    CHECK_INT(v->initial_last_n.value, 20);
    CHECK_INT(v->n_sources, 6);
    CHECK_INT(v->sources[5].ssrc, 23);
    CHECK_STR(v->sources[5].msid, "s1 t1");
    CHECK_INT(v->n_groups, 4);
    CHECK_STR(v->groups[0].semantics, "SIM");
    CHECK_INT(v->groups[0].n_ssrcs, 3);
    CHECK_INT(v->groups[0].ssrcs[2], 13);
    CHECK_STR(v->groups[3].semantics, "FID");
    CHECK_INT(v->groups[3].ssrcs[1], 23);
    CHECK(v->rtcp_mux);

    CHECK(d->transport.sctp_present);
    CHECK_INT(d->transport.sctp_port, 5000);

    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK_INT(jingle_validate_sources(m, NULL, 20, err, sizeof err), 0);
    free(m);
}

static void test_parse_transport_info(void)
{
    char *xml =
        jingle_doc("transport-info",
                   "<content creator='responder' name='0'>"
                   " <transport " ICE " ufrag='Xk9a' pwd='asd88fgpdd777uzjYhagZg'>"
                   "  <candidate component='1' foundation='842163049' generation='0' id='a1' "
                   "ip='192.0.2.33' network='1' port='50000' priority='1677729535' protocol='udp' "
                   "type='srflx' rel-addr='10.0.0.5' rel-port='50001'/>"
                   "  <candidate component='1' foundation='1' generation='0' id='a2' "
                   "ip='0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11.local' network='1' port='50002' "
                   "priority='2122260223' protocol='udp' type='host'/>"
                   "  <candidate component='1' foundation='2' id='a3' ip='2001:db8::1' port='9' "
                   "priority='1518280447' protocol='tcp' type='host' tcptype='active'/>"
                   " </transport>"
                   "</content>");
    jingle_msg *m = new_msg();
    char err[256];
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_TRANSPORT_INFO);
    CHECK_INT(m->n_contents, 1);
    const jingle_content *c = &m->contents[0];
    CHECK_STR(c->name, "0");
    CHECK_STR(c->media, "");
    CHECK(c->has_transport);
    const c2_transport *t = &c->transport;
    CHECK_INT(t->n_candidates, 3);
    CHECK_STR(t->candidates[0].ip, "192.0.2.33");
    CHECK_STR(t->candidates[0].type, "srflx");
    CHECK_STR(t->candidates[0].rel_addr, "10.0.0.5");
    CHECK_INT(t->candidates[0].rel_port, 50001);
    CHECK_INT(t->candidates[0].network, 1);
    CHECK(t->candidates[1].mdns);
    CHECK_STR(t->candidates[1].ip, "0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11.local");
    CHECK(t->candidates[2].is_tcp && !t->candidates[2].mdns);
    CHECK_INT(t->candidates[2].port, 9);
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), 0);

    /* round trip of a transport-info */
    jingle_msg *r = new_msg();
    round_trip(m, r);
    CHECK_INT(r->action, JINGLE_TRANSPORT_INFO);
    CHECK(memcmp(&r->contents[0], &m->contents[0], sizeof r->contents[0]) == 0);
    free(r);
    free(m);
    free(xml);
}

static void test_parse_source_add_remove(void)
{
    char *xml = jingle_doc("source-add",
                           "<content name='video'>"
                           " <description " RTP " media='video'>"
                           "  <source " SSMA " ssrc='31' name='7b4f1a2c-v1' videoType='desktop'>"
                           "   <parameter name='msid' value='s2 t2'/></source>"
                           "  <source " SSMA " ssrc='41' name='7b4f1a2c-v1' videoType='desktop'>"
                           "   <parameter name='msid' value='s2 t2'/></source>"
                           "  <ssrc-group " SSMA " semantics='FID'>"
                           "<source ssrc='31'/><source ssrc='41'/></ssrc-group>"
                           " </description>"
                           "</content>");
    jingle_msg *m = new_msg();
    char err[256];
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_SOURCE_ADD);
    CHECK_INT(m->n_contents, 1);
    CHECK_STR(m->contents[0].media, "video");
    CHECK_INT(m->contents[0].n_sources, 2);
    CHECK_STR(m->contents[0].sources[0].video_type, "desktop");
    CHECK_INT(m->contents[0].n_groups, 1);
    CHECK(!m->contents[0].has_transport);
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), 0);
    free(xml);

    /* legacy name, sources placed directly in the content (lenient) */
    xml = jingle_doc("removesource", "<content name='audio'>"
                                     " <description " RTP " media='audio'/>"
                                     " <source " SSMA " ssrc='1'/>"
                                     "</content>");
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_SOURCE_REMOVE);
    CHECK_INT(m->contents[0].n_sources, 1);
    CHECK_INT(m->contents[0].sources[0].ssrc, 1);
    CHECK_STR(m->contents[0].sources[0].name, "");
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), 0);
    free(xml);

    xml = jingle_doc("addsource", "");
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_SOURCE_ADD);
    CHECK_INT(m->n_contents, 0);
    free(xml);
    free(m);
}

static void test_parse_session_terminate(void)
{
    char *xml = jingle_doc("session-terminate",
                           "<reason><success/><text>restarting the session</text></reason>"
                           "<bridge-session " FOCUS " id='0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11' "
                           "restart='true'/>");
    jingle_msg *m = new_msg();
    char err[256];
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_SESSION_TERMINATE);
    CHECK(m->reason.present);
    CHECK_STR(m->reason.condition, "success");
    CHECK_STR(m->reason.text, "restarting the session");
    CHECK(m->bridge_session.present && m->bridge_session.restart);
    CHECK_STR(m->bridge_session.id, "0b9c7a2e-5d1f-4c51-9b0e-2f0f6c3a7e11");
    CHECK_STR(m->bridge_session.region, "");
    CHECK_INT(m->n_contents, 0);

    jingle_msg *r = new_msg();
    round_trip(m, r);
    CHECK(memcmp(r, m, sizeof *r) == 0);
    free(xml);

    /* a condition from another namespace is ignored; text alone is not enough */
    xml = jingle_doc("session-terminate", "<reason><text>x</text>"
                                          "<x xmlns='urn:example'/></reason>");
    expect_parse_error(xml, "<reason> lacks a condition");
    free(xml);
    xml = jingle_doc("session-terminate", "<reason><gone/><busy/></reason>");
    expect_parse_error(xml, "more than one reason condition");
    free(xml);
    free(r);
    free(m);
}

static void test_parse_session_info_and_unknown(void)
{
    char *xml =
        jingle_doc("session-info", "<bridge-session " FOCUS " id='b1' ice-restart='true'/>");
    jingle_msg *m = new_msg();
    char err[256];
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_SESSION_INFO);
    CHECK(m->bridge_session.present && m->bridge_session.ice_restart);
    CHECK(!m->bridge_session.restart);
    free(xml);

    /* unknown action: parsed (body skipped, even malformed) for feature-not-implemented */
    xml = jingle_doc("content-add", "<content><transport " ICE "><candidate/></transport>"
                                    "</content>");
    CHECK_INT(parse_xml(xml, m, err, sizeof err), 0);
    CHECK_INT(m->action, JINGLE_UNKNOWN);
    CHECK_STR(m->sid, SID);
    CHECK_INT(m->n_contents, 0);
    free(xml);

    CHECK_STR(jingle_action_name(JINGLE_SOURCE_ADD), "source-add");
    CHECK_STR(jingle_action_name(JINGLE_UNKNOWN), "");
    CHECK_INT(jingle_action_from_name("transport-replace"), JINGLE_TRANSPORT_REPLACE);
    CHECK_INT(jingle_action_from_name("content-modify"), JINGLE_CONTENT_MODIFY);
    CHECK_INT(jingle_action_from_name(NULL), JINGLE_UNKNOWN);
    free(m);
}

static void test_parse_errors(void)
{
    expect_parse_error("<jingle action='session-accept' sid='s'/>",
                       "expected <jingle xmlns='urn:xmpp:jingle:1'>");
    expect_parse_error("<jingle " JNS " sid='s'/>", "<jingle> lacks the 'action' attribute");
    expect_parse_error("<jingle " JNS " action='session-accept'/>",
                       "<jingle> lacks the 'sid' attribute");
    expect_parse_error("<jingle " JNS " action='session-accept' sid=''/>",
                       "<jingle> lacks the 'sid' attribute");
    /* sid is required even for an unknown action */
    expect_parse_error("<jingle " JNS " action='x-y'/>", "<jingle> lacks the 'sid' attribute");

    struct {
        const char *body, *err;
    } cases[] = {
        {"<content/>", "<content> lacks the 'name' attribute"},
        {"<content name='a'/><content name='a'/>", "duplicate content 'a'"},
        {"<content name='a' creator='me'/>",
         "attribute 'creator' of <content> has an unknown value"},
        {"<content name='a' senders='all'/>",
         "attribute 'senders' of <content> has an unknown value"},
        {"<content name='a'><description " RTP "/></content>",
         "<description> of content 'a' lacks the 'media' attribute"},
        {"<content name='a'><description " RTP " media='text'/></content>",
         "description media 'text' is not audio, video or application"},
        {"<content name='a'><description " RTP " media='audio'/><description " RTP
         " media='audio'/></content>",
         "more than one <description>"},
        {"<content name='a'><description " RTP " media='audio'><source " SSMA
         " ssrc='x1'/></description></content>",
         "attribute 'ssrc' of <source> is not a number in 0..4294967295"},
        {"<content name='a'><description " RTP " media='audio'><source " SSMA
         " ssrc='4294967296'/></description></content>",
         "attribute 'ssrc' of <source> is not a number in 0..4294967295"},
        {"<content name='a'><description " RTP " media='audio'><source " SSMA
         "/></description></content>",
         "<source> lacks the 'ssrc' attribute"},
        {"<content name='a'><description " RTP " media='audio'><source " SSMA
         " ssrc='-1'/></description></content>",
         "attribute 'ssrc' of <source> is not a number in 0..4294967295"},
        {"<content name='a'><description " RTP " media='audio'><ssrc-group " SSMA
         " semantics='FID'/></description></content>",
         "empty ssrc-group FID in content 'a'"},
        {"<content name='a'><description " RTP " media='audio'><payload-type id='128' "
         "name='x'/></description></content>",
         "attribute 'id' of <payload-type> is not a number in 0..127"},
        {"<content name='a'><description " RTP " media='audio'><payload-type id='1' name='x'/>"
         "<payload-type id='1' name='y'/></description></content>",
         "duplicate payload type 1 in content 'a'"},
        {"<content name='a'><description " RTP " media='audio' maxptime='0'/></content>",
         "attribute 'maxptime' of <description> is not a number in 1..4294967295"},
        {"<content name='a'><description " RTP " media='audio'><rtp-hdrext " HDREXT
         " id='0' uri='u'/></description></content>",
         "attribute 'id' of <rtp-hdrext> is not a number in 1..255"},
        {"<content name='a'><transport " ICE "><candidate component='1' foundation='1' "
         "ip='1.2.3.4' port='1' priority='1' protocol='udp' type='host'/></transport></content>",
         "ice-udp transport with candidates or a fingerprint lacks ufrag/pwd"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><candidate component='1' "
         "foundation='1' ip='evil.example.com' port='1' priority='1' protocol='udp' "
         "type='host'/></transport></content>",
         "candidate ip 'evil.example.com' is not an IP address or an mDNS name"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><candidate component='1' "
         "foundation='1' ip='1.2.3.4' port='0' priority='1' protocol='udp' "
         "type='host'/></transport></content>",
         "attribute 'port' of <candidate> is not a number in 1..65535"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><candidate component='1' "
         "foundation='1' ip='1.2.3.4' port='1' priority='1' protocol='sctp' "
         "type='host'/></transport></content>",
         "candidate protocol must be udp or tcp"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><fingerprint " DTLS
         " hash='sha-256' setup='x'>AA</fingerprint></transport></content>",
         "fingerprint setup must be active, passive, actpass or holdconn"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><fingerprint " DTLS
         " hash='sha-256' setup='active'> </fingerprint></transport></content>",
         "empty fingerprint"},
        {"<content name='a'><transport " ICE " ufrag='u' pwd='p'><sctpmap " SCTP
         " number='70000'/></transport></content>",
         "attribute 'number' of <sctpmap> is not a number in 1..65535"},
        {"<content name='a'><transport " ICE "/><transport " ICE "/></content>",
         "more than one <transport> in content 'a'"},
        {"<content name='a'><initial-last-n xmlns='jitsi:colibri2' value='-2'/></content>",
         "initial-last-n value must be a number in -1..1000000"},
        {"<bridge-session " FOCUS " restart='yes'/>",
         "attribute 'restart' of <bridge-session> is not a boolean"},
        {"<bridge-session " FOCUS "/><bridge-session " FOCUS "/>",
         "more than one <bridge-session>"},
        {"<group " GROUPING " semantics='BUNDLE'/><group " GROUPING " semantics='BUNDLE'/>",
         "more than one BUNDLE group"},
        {"<group " GROUPING " semantics='BUNDLE'><content/></group>",
         "<content> lacks the 'name' attribute"},
        {"<reason><success/></reason><reason><success/></reason>", "more than one <reason>"},
        {"<content name='a'><description " RTP " media='audio'><source " SSMA
         " ssrc='1'><parameter name='msid' value='a'/><parameter name='msid' value='b'/>"
         "</source></description></content>",
         "more than one <parameter name='msid'>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *xml = jingle_doc("session-accept", cases[i].body);
        expect_parse_error(xml, cases[i].err);
        free(xml);
    }
    /* unknown elements and namespaces are ignored */
    jingle_msg *m = new_msg();
    char *xml =
        jingle_doc("session-accept", "<startmuted " JITMEET " audio='true'/><content name='a'>"
                                     "<description xmlns='urn:example' media='x'/><foo/></content>"
                                     "<group " GROUPING " semantics='LS'><content/></group>");
    CHECK_INT(parse_xml(xml, m, NULL, 0), 0);
    CHECK_INT(m->n_contents, 1);
    CHECK_STR(m->contents[0].media, "");
    CHECK(!m->has_bundle);
    free(xml);
    free(m);
}

/* ---- building ---- */

static void test_round_trip_session_initiate(void)
{
    jingle_msg *m = new_msg(), *r = new_msg(), *r2 = new_msg();
    CHECK_INT(parse_xml(initiate, m, NULL, 0), 0);
    round_trip(m, r);
    check_initiate(r);
    CHECK(memcmp(r, m, sizeof *r) == 0);
    round_trip(r, r2);
    CHECK(memcmp(r2, m, sizeof *r2) == 0);
    free(r2);
    free(r);
    free(m);
}

/* The first element child of s named name (NULL if none) and the n-th element child. */
static xmpp_stanza_t *child(xmpp_stanza_t *s, const char *name)
{
    return xmpp_stanza_get_child_by_name(s, name);
}

static xmpp_stanza_t *nth(xmpp_stanza_t *s, int n)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c) && n-- == 0)
            return c;
    return NULL;
}

#define CHECK_NAME(s, want) CHECK_STR((s) ? xmpp_stanza_get_name(s) : "(none)", want)
#define CHECK_ATTR(s, k, want) CHECK_STR(xmpp_stanza_get_attribute((s), (k)), want)

/* A session-initiate built by the focus from scratch, as §3.2 lays it out. */
static void test_build_session_initiate(void)
{
    jingle_msg *m = new_msg();
    m->action = JINGLE_SESSION_INITIATE;
    strcpy(m->sid, SID);
    strcpy(m->initiator, "focus@auth.meet.jitsi/focus");
    jingle_content *a = jingle_add_content(m, "audio", "audio");
    jingle_content *v = jingle_add_content(m, "video", "video");
    CHECK(a && v);
    /* fields are set one by one on the zeroed message, so that memcmp
     * below never compares padding */
    c2_payload_type *pt = &a->payload_types[a->n_payload_types++];
    pt->id = 111;
    strcpy(pt->name, "opus");
    pt->clockrate = 48000;
    pt->channels = 2;
    strcpy(pt->params[pt->n_params].name, "minptime");
    strcpy(pt->params[pt->n_params++].value, "10");
    strcpy(pt->rtcp_fbs[pt->n_rtcp_fbs++].type, "transport-cc");
    a->hdrexts[0].id = 1;
    strcpy(a->hdrexts[a->n_hdrexts++].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    a->extmap_allow_mixed = a->rtcp_mux = true;
    a->n_sources = 1;
    a->sources[0] =
        (jingle_source){3191927963u, "jvb-a0", "mixedmslabel mixedlabelaudio0", "jvb", ""};
    pt = &v->payload_types[v->n_payload_types++];
    pt->id = 100;
    strcpy(pt->name, "VP8");
    pt->clockrate = 90000;
    v->rtcp_mux = true;
    v->n_sources = 2;
    v->sources[0] = (jingle_source){10, "a1b2c3d4-v0", "s t", "a1b2c3d4", "camera"};
    v->sources[1] = (jingle_source){11, "a1b2c3d4-v0", "s t", "a1b2c3d4", "camera"};
    v->n_groups = 1;
    v->groups[0] = (c2_ssrc_group){"FID", {10, 11}, 2};
    c2_transport *t = &a->transport;
    t->present = t->has_ice = t->rtcp_mux = t->has_web_socket = true;
    strcpy(t->ufrag, "u1");
    strcpy(t->pwd, "p1");
    strcpy(t->web_socket_url, "wss://x/colibri-ws/a");
    t->fingerprints[t->n_fingerprints++] = (c2_fingerprint){"sha-256", "actpass", "AA:BB"};
    c2_candidate *cd = &t->candidates[t->n_candidates++];
    cd->component = 1;
    strcpy(cd->foundation, "1");
    strcpy(cd->ip, "203.0.113.7");
    cd->port = 10000;
    cd->priority = 1;
    strcpy(cd->protocol, "udp");
    strcpy(cd->type, "host");
    a->has_transport = v->has_transport = true;
    memcpy(&v->transport, t, sizeof *t);
    m->has_bundle = true;
    m->bridge_session.present = true;
    strcpy(m->bridge_session.id, "b1");
    strcpy(m->bridge_session.region, "eu");

    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *j = jingle_build(ctx, m);
    CHECK_NAME(j, "jingle");
    CHECK_STR(xmpp_stanza_get_ns(j), "urn:xmpp:jingle:1");
    CHECK_ATTR(j, "action", "session-initiate");
    CHECK_ATTR(j, "sid", SID);
    CHECK_ATTR(j, "initiator", "focus@auth.meet.jitsi/focus");
    CHECK(xmpp_stanza_get_attribute(j, "responder") == NULL);
    /* contents, then the group, then bridge-session */
    CHECK_NAME(nth(j, 0), "content");
    CHECK_NAME(nth(j, 1), "content");
    CHECK_NAME(nth(j, 2), "group");
    CHECK_NAME(nth(j, 3), "bridge-session");
    CHECK(nth(j, 4) == NULL);
    xmpp_stanza_t *c = nth(j, 0);
    CHECK_ATTR(c, "creator", "initiator");
    CHECK_ATTR(c, "name", "audio");
    CHECK_ATTR(c, "senders", "both");
    CHECK_NAME(nth(c, 0), "description");
    CHECK_NAME(nth(c, 1), "transport");
    xmpp_stanza_t *d = nth(c, 0);
    CHECK_STR(xmpp_stanza_get_ns(d), "urn:xmpp:jingle:apps:rtp:1");
    CHECK_ATTR(d, "media", "audio");
    CHECK_NAME(nth(d, 0), "payload-type");
    CHECK_NAME(nth(nth(d, 0), 0), "parameter");
    CHECK_NAME(nth(nth(d, 0), 1), "rtcp-fb");
    CHECK_NAME(nth(d, 1), "rtp-hdrext");
    CHECK_NAME(nth(d, 2), "extmap-allow-mixed");
    CHECK_NAME(nth(d, 3), "rtcp-mux");
    CHECK_NAME(nth(d, 4), "source");
    xmpp_stanza_t *src = nth(d, 4);
    CHECK_STR(xmpp_stanza_get_ns(src), "urn:xmpp:jingle:apps:rtp:ssma:0");
    CHECK_ATTR(src, "ssrc", "3191927963");
    CHECK_ATTR(src, "name", "jvb-a0");
    CHECK_NAME(nth(src, 0), "ssrc-info");
    CHECK_STR(xmpp_stanza_get_ns(nth(src, 0)), "http://jitsi.org/jitmeet");
    CHECK_ATTR(nth(src, 0), "owner", "jvb");
    CHECK_NAME(nth(src, 1), "parameter");
    CHECK_ATTR(nth(src, 1), "name", "msid");
    CHECK_ATTR(nth(src, 1), "value", "mixedmslabel mixedlabelaudio0");
    xmpp_stanza_t *tr = nth(c, 1);
    CHECK_STR(xmpp_stanza_get_ns(tr), "urn:xmpp:jingle:transports:ice-udp:1");
    CHECK_ATTR(tr, "ufrag", "u1");
    CHECK_NAME(nth(tr, 0), "rtcp-mux");
    CHECK_NAME(nth(tr, 1), "fingerprint");
    CHECK_ATTR(nth(tr, 1), "setup", "actpass");
    CHECK_NAME(nth(tr, 2), "candidate");
    CHECK_ATTR(nth(tr, 2), "generation", "0");
    CHECK_ATTR(nth(tr, 2), "network", "0");
    CHECK_NAME(nth(tr, 3), "web-socket");
    /* video: sources, then groups */
    d = child(nth(j, 1), "description");
    CHECK_NAME(nth(d, 2), "source");
    CHECK_ATTR(nth(d, 2), "videoType", "camera");
    CHECK_NAME(nth(d, 3), "source");
    CHECK_NAME(nth(d, 4), "ssrc-group");
    CHECK_ATTR(nth(d, 4), "semantics", "FID");
    CHECK_ATTR(nth(nth(d, 4), 1), "ssrc", "11");
    xmpp_stanza_t *g = nth(j, 2);
    CHECK_STR(xmpp_stanza_get_ns(g), "urn:xmpp:jingle:apps:grouping:0");
    CHECK_ATTR(g, "semantics", "BUNDLE");
    CHECK_ATTR(nth(g, 0), "name", "audio");
    CHECK_ATTR(nth(g, 1), "name", "video");
    CHECK(nth(g, 2) == NULL);
    CHECK_STR(xmpp_stanza_get_ns(nth(j, 3)), "http://jitsi.org/protocol/focus");
    CHECK_ATTR(nth(j, 3), "id", "b1");
    CHECK_ATTR(nth(j, 3), "region", "eu");
    CHECK(xmpp_stanza_get_attribute(nth(j, 3), "restart") == NULL);
    xmpp_stanza_release(j);
    xmpp_ctx_free(ctx);

    jingle_msg *r = new_msg();
    round_trip(m, r);
    CHECK_INT(r->n_contents, 2);
    CHECK_INT(r->n_bundle, 2);
    /* defaults written by the builder come back as values */
    CHECK_STR(r->contents[0].creator, "initiator");
    CHECK_STR(r->contents[0].senders, "both");
    memcpy(r->contents[0].creator, m->contents[0].creator, sizeof r->contents[0].creator);
    memcpy(r->contents[0].senders, m->contents[0].senders, sizeof r->contents[0].senders);
    memcpy(r->contents[1].creator, m->contents[1].creator, sizeof r->contents[1].creator);
    memcpy(r->contents[1].senders, m->contents[1].senders, sizeof r->contents[1].senders);
    memcpy(r->bundle, m->bundle, sizeof r->bundle);
    r->n_bundle = 0;
    CHECK(memcmp(r, m, sizeof *r) == 0);
    free(r);
    free(m);
}

static void test_round_trip_source_add(void)
{
    jingle_msg *m = new_msg();
    m->action = JINGLE_SOURCE_ADD;
    strcpy(m->sid, SID);
    jingle_content *v = jingle_add_content(m, "video", "video");
    v->n_sources = 2;
    v->sources[0] = (jingle_source){10, "a1b2c3d4-v0", "s t", "a1b2c3d4", "camera"};
    v->sources[1] = (jingle_source){11, "a1b2c3d4-v0", "s t", "a1b2c3d4", "camera"};
    v->n_groups = 1;
    v->groups[0] = (c2_ssrc_group){"FID", {10, 11}, 2};
    /* not part of a source-add: left out by the builder */
    v->n_payload_types = 1;
    v->payload_types[0].id = 100;
    strcpy(v->payload_types[0].name, "VP8");
    v->rtcp_mux = true;
    v->has_transport = true;
    v->transport.present = v->transport.has_ice = true;
    jingle_content *a = jingle_add_content(m, "audio", "audio");
    a->n_sources = 1;
    a->sources[0] = (jingle_source){1, "a1b2c3d4-a0", "s t2", "a1b2c3d4", ""};

    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *j = jingle_build(ctx, m);
    CHECK_ATTR(j, "action", "source-add");
    xmpp_stanza_t *c = nth(j, 0);
    CHECK_ATTR(c, "name", "video");
    CHECK(xmpp_stanza_get_attribute(c, "creator") == NULL);
    CHECK_NAME(nth(c, 0), "description");
    CHECK(nth(c, 1) == NULL);
    CHECK_NAME(nth(nth(c, 0), 0), "source");
    CHECK_NAME(nth(nth(c, 0), 2), "ssrc-group");
    CHECK(nth(nth(c, 0), 3) == NULL);
    xmpp_stanza_release(j);
    xmpp_ctx_free(ctx);

    jingle_msg *r = new_msg();
    round_trip(m, r);
    CHECK_INT(r->action, JINGLE_SOURCE_ADD);
    CHECK_INT(r->n_contents, 2);
    CHECK(!r->contents[0].has_transport && !r->contents[0].rtcp_mux);
    CHECK_INT(r->contents[0].n_payload_types, 0);
    CHECK(memcmp(r->contents[0].sources, v->sources, sizeof v->sources) == 0);
    CHECK(memcmp(r->contents[0].groups, v->groups, sizeof v->groups) == 0);
    CHECK(memcmp(&r->contents[1], a, sizeof *a) == 0);
    char err[256];
    CHECK_INT(jingle_validate_sources(r, "a1b2c3d4", 20, err, sizeof err), 0);

    /* source-remove has the same layout */
    m->action = JINGLE_SOURCE_REMOVE;
    round_trip(m, r);
    CHECK_INT(r->action, JINGLE_SOURCE_REMOVE);
    CHECK(memcmp(&r->contents[1], a, sizeof *a) == 0);
    free(r);
    free(m);
}

static void test_build_session_terminate(void)
{
    jingle_msg *m = new_msg();
    m->action = JINGLE_SESSION_TERMINATE;
    strcpy(m->sid, SID);
    m->reason.present = true;
    strcpy(m->reason.condition, "gone");
    strcpy(m->reason.text, "left the room");
    m->bridge_session.present = true;
    m->bridge_session.restart = true;
    strcpy(m->bridge_session.id, "b1");
    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *j = jingle_build(ctx, m);
    xmpp_stanza_t *r = nth(j, 0);
    CHECK_NAME(r, "reason");
    CHECK_NAME(nth(r, 0), "gone");
    CHECK_NAME(nth(r, 1), "text");
    char *text = xmpp_stanza_get_text(nth(r, 1));
    CHECK_STR(text, "left the room");
    xmpp_free(ctx, text);
    CHECK_NAME(nth(j, 1), "bridge-session");
    CHECK_ATTR(nth(j, 1), "restart", "true");
    xmpp_stanza_release(j);
    xmpp_ctx_free(ctx);
    jingle_msg *back = new_msg();
    round_trip(m, back);
    CHECK(memcmp(back, m, sizeof *m) == 0);
    free(back);
    free(m);
}

/* ---- source validation ---- */

/* A valid source-add for endpoint 7b4f1a2c: audio 1, video 11/21 (FID). */
static jingle_msg *valid_set(void)
{
    jingle_msg *m = new_msg();
    m->action = JINGLE_SOURCE_ADD;
    strcpy(m->sid, SID);
    jingle_content *a = jingle_add_content(m, "audio", "audio");
    a->n_sources = 1;
    a->sources[0] = (jingle_source){1, "7b4f1a2c-a0", "s a", "", ""};
    jingle_content *v = jingle_add_content(m, "video", "video");
    v->n_sources = 2;
    v->sources[0] = (jingle_source){11, "7b4f1a2c-v0", "s v", "", "camera"};
    v->sources[1] = (jingle_source){21, "7b4f1a2c-v0", "s v", "", "camera"};
    v->n_groups = 1;
    v->groups[0] = (c2_ssrc_group){"FID", {11, 21}, 2};
    return m;
}

static void expect_invalid(jingle_msg *m, int max, const char *want)
{
    char err[256] = "x";
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", max, err, sizeof err), -1);
    CHECK_STR(err, want);
    free(m);
}

static void test_validate_ok(void)
{
    jingle_msg *m = valid_set();
    char err[256] = "x";
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 3, err, sizeof err), 0);
    CHECK_STR(err, "");
    /* names are optional; a data content without sources is fine */
    m->contents[0].sources[0].name[0] = '\0';
    CHECK(jingle_add_content(m, "data", "application") != NULL);
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 3, NULL, 0), 0);
    /* multi-digit index, screen share as a second video source */
    strcpy(m->contents[1].sources[0].name, "7b4f1a2c-v10");
    strcpy(m->contents[1].sources[1].name, "7b4f1a2c-v10");
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 3, err, sizeof err), 0);
    /* an endpoint id with a dash in it */
    strcpy(m->contents[1].sources[0].name, "ab-cd-v1");
    strcpy(m->contents[1].sources[1].name, "ab-cd-v1");
    CHECK_INT(jingle_validate_sources(m, "ab-cd", 3, err, sizeof err), 0);
    /* an empty message */
    memset(m, 0, sizeof *m);
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 0, err, sizeof err), 0);
    free(m);
}

static void test_validate_failures(void)
{
    jingle_msg *m = valid_set();
    m->contents[1].sources[1].ssrc = 1;
    m->contents[1].groups[0].ssrcs[1] = 1;
    expect_invalid(m, 20, "ssrc 1 is used more than once");

    m = valid_set();
    m->contents[1].groups[0].ssrcs[1] = 99;
    expect_invalid(m, 20,
                   "FID ssrc-group in content 'video' names ssrc 99, not one of its sources");

    m = valid_set();
    m->contents[1].groups[0] = (c2_ssrc_group){"FID", {11, 21, 31}, 3};
    expect_invalid(m, 20, "FID ssrc-group in content 'video' has 3 SSRCs, not 2");

    m = valid_set();
    m->contents[1].groups[0] = (c2_ssrc_group){"SIM", {11}, 1};
    expect_invalid(m, 20, "SIM ssrc-group in content 'video' has 1 SSRCs, not 2 or 3");

    m = valid_set();
    m->contents[1].groups[0] = (c2_ssrc_group){"SIM", {11, 21, 31, 41}, 4};
    expect_invalid(m, 20, "SIM ssrc-group in content 'video' has 4 SSRCs, not 2 or 3");

    m = valid_set();
    m->contents[1].groups[0] = (c2_ssrc_group){"SIM", {11, 21, 11}, 3};
    expect_invalid(m, 20, "ssrc 11 is repeated in a SIM ssrc-group");

    m = valid_set();
    strcpy(m->contents[1].groups[0].semantics, "XYZ");
    expect_invalid(m, 20, "ssrc-group semantics 'XYZ' in content 'video' is not supported");

    m = valid_set();
    expect_invalid(m, 2, "too many SSRCs: 3 (at most 2)");

    m = valid_set();
    m->contents[0].n_sources = 0;
    m->contents[0].n_groups = 1;
    m->contents[0].groups[0] = (c2_ssrc_group){"FID", {1, 2}, 2};
    expect_invalid(m, 20, "FID ssrc-group in content 'audio' names ssrc 1, not one of its sources");
}

static void test_validate_failures2(void)
{
    jingle_msg *m = valid_set();
    strcpy(m->contents[1].sources[0].name, "7b4f1a2c-a0");
    expect_invalid(m, 20, "source name '7b4f1a2c-a0' in content 'video' is not 7b4f1a2c-v<N>");

    m = valid_set();
    strcpy(m->contents[0].sources[0].name, "somebody-a0");
    expect_invalid(m, 20, "source name 'somebody-a0' in content 'audio' is not 7b4f1a2c-a<N>");

    m = valid_set();
    strcpy(m->contents[0].sources[0].name, "7b4f1a2c-a");
    expect_invalid(m, 20, "source name '7b4f1a2c-a' in content 'audio' is not 7b4f1a2c-a<N>");

    m = valid_set();
    strcpy(m->contents[0].sources[0].name, "7b4f1a2c-a0x");
    expect_invalid(m, 20, "source name '7b4f1a2c-a0x' in content 'audio' is not 7b4f1a2c-a<N>");

    m = valid_set();
    strcpy(m->contents[0].sources[0].name, "x7b4f1a2c-a0");
    expect_invalid(m, 20, "source name 'x7b4f1a2c-a0' in content 'audio' is not 7b4f1a2c-a<N>");

    m = valid_set();
    m->contents[0].sources[0].ssrc = 0;
    expect_invalid(m, 20, "ssrc 0 in content 'audio' is not allowed");

    m = valid_set();
    strcpy(m->contents[0].media, "application");
    expect_invalid(m, 20, "content 'audio' carries sources but is not an audio or video content");

    m = valid_set();
    m->contents[0].media[0] = '\0';
    expect_invalid(m, 20, "content 'audio' carries sources but is not an audio or video content");

    m = valid_set();
    m->contents[1].sources[1].msid[0] = '\0';
    expect_invalid(m, 20, "source 21 of a FID ssrc-group has no msid");

    m = valid_set();
    strcpy(m->contents[1].sources[1].msid, "s other");
    expect_invalid(m, 20,
                   "the sources of a FID ssrc-group in content 'video' have different msids");

    m = valid_set();
    m->contents[1].n_groups = 0;
    expect_invalid(m, 20, "msid 's v' is shared by ssrcs 11 and 21, which no ssrc-group links");

    m = valid_set();
    strcpy(m->contents[0].sources[0].msid, "s v");
    expect_invalid(m, 20, "msid 's v' is shared by ssrcs 1 and 11, which no ssrc-group links");
}

static void test_validate_limits(void)
{
    /* 21 single SSRCs against jicofo's 20 */
    jingle_msg *m = new_msg();
    jingle_content *v = jingle_add_content(m, "video", "video");
    for (uint32_t i = 0; i < 21; i++) {
        v->sources[i].ssrc = 100 + i;
        snprintf(v->sources[i].name, sizeof v->sources[i].name, "7b4f1a2c-v%u", i);
    }
    v->n_sources = 20;
    char err[256];
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), 0);
    v->n_sources = 21;
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), -1);
    CHECK_STR(err, "too many SSRCs: 21 (at most 20)");

    /* 21 groups over 20 sources */
    v->n_sources = 20;
    for (size_t g = 0; g < 21; g++)
        v->groups[g] = (c2_ssrc_group){"SIM", {100, 101}, 2};
    v->n_groups = 21;
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, err, sizeof err), -1);
    CHECK_STR(err, "too many ssrc-groups: 21 (at most 20)");
    /* max 0 or negative: no sources at all */
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", -5, err, sizeof err), -1);
    CHECK_STR(err, "too many SSRCs: 20 (at most 0)");
    /* a tiny error buffer is still NUL-terminated */
    char small[8];
    CHECK_INT(jingle_validate_sources(m, "7b4f1a2c", 20, small, sizeof small), -1);
    CHECK_STR(small, "too man");
    free(m);
}

/* ---- hostile bounds ---- */

/* A string of n copies of c (caller frees). */
static char *rep(const char *c, size_t n)
{
    size_t l = strlen(c);
    char *s = malloc(l * n + 1);
    CHECK(s != NULL);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * l, c, l);
    s[l * n] = '\0';
    return s;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    CHECK(vasprintf(&s, f, ap) > 0);
    va_end(ap);
    return s;
}

/* Body with n copies of item inside the wrapper before/after, parsed as a
 * session-accept: n = bound parses, n = bound + 1 fails with want. */
static void check_bound(const char *before, const char *item, const char *after, size_t bound,
                        const char *want)
{
    for (size_t n = bound; n <= bound + 1; n++) {
        char *items = rep(item, n);
        char *body = fmt("%s%s%s", before, items, after);
        char *xml = jingle_doc("session-accept", body);
        if (n == bound) {
            jingle_msg *m = new_msg();
            char err[256] = "";
            int rc = parse_xml(xml, m, err, sizeof err);
            if (rc)
                fprintf(stderr, "at the bound: %s\n", err);
            CHECK_INT(rc, 0);
            free(m);
        } else {
            expect_parse_error(xml, want);
        }
        free(xml);
        free(body);
        free(items);
    }
}

static void test_hostile_bounds(void)
{
    /* contents: names must be unique, so build them one by one */
    for (size_t n = JINGLE_MAX_CONTENTS; n <= JINGLE_MAX_CONTENTS + 1; n++) {
        char body[1024] = "";
        for (size_t i = 0; i < n; i++)
            snprintf(body + strlen(body), sizeof body - strlen(body), "<content name='c%zu'/>", i);
        char *xml = jingle_doc("session-accept", body);
        if (n == JINGLE_MAX_CONTENTS) {
            jingle_msg *m = new_msg();
            CHECK_INT(parse_xml(xml, m, NULL, 0), 0);
            CHECK_INT(m->n_contents, JINGLE_MAX_CONTENTS);
            free(m);
        } else {
            expect_parse_error(xml, "more than 4 contents");
        }
        free(xml);
    }
    check_bound("<content name='v'><description " RTP " media='video'>",
                "<source " SSMA " ssrc='5'/>", "</description></content>", 64,
                "more than 64 sources in content 'v'");
    check_bound("<content name='v'>", "<source " SSMA " ssrc='5'/>", "</content>", 64,
                "more than 64 sources in content 'v'");
    check_bound("<content name='v'><description " RTP " media='video'>",
                "<ssrc-group " SSMA " semantics='SIM'><source ssrc='1'/></ssrc-group>",
                "</description></content>", 32, "more than 32 ssrc-groups in content 'v'");
    check_bound("<content name='v'><description " RTP " media='video'><ssrc-group " SSMA
                " semantics='SIM'>",
                "<source ssrc='1'/>", "</ssrc-group></description></content>", 8,
                "more than 8 ssrcs in an ssrc-group");
    check_bound("<content name='v'><transport " ICE " ufrag='u' pwd='p'>",
                "<candidate component='1' foundation='1' ip='192.0.2.1' port='1' priority='1' "
                "protocol='udp' type='host'/>",
                "</transport></content>", 32, "more than 32 candidates");
    check_bound("<content name='v'><transport " ICE " ufrag='u' pwd='p'>",
                "<fingerprint " DTLS " hash='sha-256' setup='active'>AA</fingerprint>",
                "</transport></content>", 4, "more than 4 fingerprints");
    check_bound("<content name='v'><description " RTP
                " media='video'><payload-type id='1' name='x'>",
                "<parameter name='a' value='b'/>", "</payload-type></description></content>", 8,
                "more than 8 parameters in payload type 1");
    check_bound("<group " GROUPING " semantics='BUNDLE'>", "<content name='a'/>", "</group>",
                JINGLE_MAX_CONTENTS, "more than 4 contents in the BUNDLE group");

    /* 25 payload types / 17 hdrexts need distinct ids */
    char body[8192] = "<content name='v'><description " RTP " media='video'>";
    for (int i = 0; i < 25; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body),
                 "<payload-type id='%d' name='x'/>", i);
    strcat(body, "</description></content>");
    char *xml = jingle_doc("session-accept", body);
    expect_parse_error(xml, "more than 24 payload types in content 'v'");
    free(xml);
    strcpy(body, "<content name='v'><description " RTP " media='video'>");
    for (int i = 1; i <= 17; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body),
                 "<rtp-hdrext " HDREXT " id='%d' uri='u'/>", i);
    strcat(body, "</description></content>");
    xml = jingle_doc("session-accept", body);
    expect_parse_error(xml, "more than 16 rtp-hdrext in content 'v'");
    free(xml);

    /* strings one byte over their field */
    struct {
        const char *pattern;
        size_t len;
        const char *err;
    } strs[] = {
        {"<jingle " JNS " action='session-accept' sid='%s'/>", 128,
         "attribute 'sid' of <jingle> is longer than 127 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s' initiator='%s'/>", 3072,
         "attribute 'initiator' of <jingle> is longer than 3071 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s' responder='%s'/>", 3072,
         "attribute 'responder' of <jingle> is longer than 3071 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s'><content name='%s'/></jingle>", 32,
         "attribute 'name' of <content> is longer than 31 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s'><content name='a'><source " SSMA
         " ssrc='1'><parameter name='msid' value='%s'/></source></content></jingle>",
         256, "attribute 'value' of <parameter> is longer than 255 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s'><content name='a'><source " SSMA
         " ssrc='1'><ssrc-info " JITMEET " owner='%s'/></source></content></jingle>",
         128, "attribute 'owner' of <ssrc-info> is longer than 127 bytes"},
        {"<jingle " JNS " action='session-accept' sid='s'><content name='a'><source " SSMA
         " ssrc='1' name='%s'/></content></jingle>",
         128, "attribute 'name' of <source> is longer than 127 bytes"},
        {"<jingle " JNS " action='session-terminate' sid='s'><reason><success/><text>%s</text>"
         "</reason></jingle>",
         256, "reason text is longer than 255 bytes"},
        {"<jingle " JNS " action='session-terminate' sid='s'><reason><%s/></reason></jingle>", 48,
         "condition of <reason> is longer than 47 bytes"},
        {"<jingle " JNS " action='session-info' sid='s'><bridge-session " FOCUS
         " id='%s'/></jingle>",
         128, "attribute 'id' of <bridge-session> is longer than 127 bytes"},
        {"<jingle " JNS " action='session-info' sid='s'><bridge-session " FOCUS
         " region='%s'/></jingle>",
         64, "attribute 'region' of <bridge-session> is longer than 63 bytes"},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        for (size_t len = strs[i].len - 1; len <= strs[i].len; len++) {
            char *val = rep("a", len);
            char *doc = fmt(strs[i].pattern, val);
            jingle_msg *m = new_msg();
            char err[256] = "";
            int rc = parse_xml(doc, m, err, sizeof err);
            if (len < strs[i].len) {
                if (rc)
                    fprintf(stderr, "case %zu at the bound: %s\n", i, err);
                CHECK_INT(rc, 0);
            } else {
                CHECK_INT(rc, -1);
                CHECK_STR(err, strs[i].err);
            }
            free(m);
            free(doc);
            free(val);
        }
    }
    /* a control character in an attribute */
    expect_parse_error("<jingle " JNS " action='session-accept' sid='a&#x9;b'/>",
                       "attribute 'sid' of <jingle> contains a control character");
}

TEST_MAIN(TEST(test_parse_session_initiate), TEST(test_parse_session_accept),
          TEST(test_parse_transport_info), TEST(test_parse_source_add_remove),
          TEST(test_parse_session_terminate), TEST(test_parse_session_info_and_unknown),
          TEST(test_parse_errors), TEST(test_round_trip_session_initiate),
          TEST(test_build_session_initiate), TEST(test_round_trip_source_add),
          TEST(test_build_session_terminate), TEST(test_validate_ok), TEST(test_validate_failures),
          TEST(test_validate_failures2), TEST(test_validate_limits), TEST(test_hostile_bounds))
