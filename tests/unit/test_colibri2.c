/* Unit tests for common/colibri2.c: the three requests of
 * jitsi-protocol.md §4.3 parsed field by field, every validation failure
 * with its condition and text, the bridge's answer (shape on the wire and
 * parsed back), the request round trip and the error IQ. Stanzas are
 * written as XML text and parsed with xmpp_stanza_new_from_string. */
#include "colibri2.h"
#include "test.h"

#include <stdarg.h>
#include <stdbool.h>

#define C2 "xmlns='jitsi:colibri2'"
#define ICE "xmlns='urn:xmpp:jingle:transports:ice-udp:1'"
#define DTLS "xmlns='urn:xmpp:jingle:apps:dtls:0'"
#define RTP "xmlns='urn:xmpp:jingle:apps:rtp:1'"
#define HDREXT "xmlns='urn:xmpp:jingle:apps:rtp:rtp-hdrext:0'"
#define RTCPFB "xmlns='urn:xmpp:jingle:apps:rtp:rtcp-fb:0'"
#define SSMA "xmlns='urn:xmpp:jingle:apps:rtp:ssma:0'"
#define MEETING "88ff288c-5eeb-4ea9-bc2f-93ea38c43b78"

/* §4.3 (1): create the conference and its first endpoint. */
static const char req1[] =
    "<iq type='get' to='jvbbrewery@internal-muc.meet.jitsi/jvb-1' id='c2a'>"
    "<conference-modify " C2 " meeting-id='" MEETING "' name='myroom@muc.meet.jitsi' "
    "create='true'>"
    " <endpoint id='7b4f1a2c' create='true' stats-id='Jayme-Clv'>"
    "  <media type='audio'>"
    "   <payload-type " RTP " id='111' name='opus' clockrate='48000' channels='2'>"
    "    <parameter name='minptime' value='10'/><parameter name='useinbandfec' value='1'/>"
    "    <rtcp-fb " RTCPFB " type='transport-cc'/></payload-type>"
    "   <rtp-hdrext " HDREXT " id='1' uri='urn:ietf:params:rtp-hdrext:ssrc-audio-level'/>"
    "   <extmap-allow-mixed " HDREXT "/>"
    "  </media>"
    "  <media type='video'>"
    "   <payload-type " RTP " id='100' name='VP8' clockrate='90000'>"
    "    <rtcp-fb " RTCPFB " type='ccm' subtype='fir'/><rtcp-fb " RTCPFB " type='nack'/>"
    "    <rtcp-fb " RTCPFB " type='nack' subtype='pli'/>"
    "    <rtcp-fb " RTCPFB " type='transport-cc'/></payload-type>"
    "   <payload-type " RTP " id='96' name='rtx' clockrate='90000'>"
    "    <parameter name='apt' value='100'/></payload-type>"
    "   <rtp-hdrext " HDREXT " id='3' "
    "uri='http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'/>"
    "  </media>"
    "  <transport ice-controlling='true'><sctp/></transport>"
    "  <capability name='source-names'/>"
    " </endpoint>"
    "</conference-modify>"
    "</iq>";

/* §4.3 (2): the remote transport and the full source set. */
static const char req2[] =
    "<iq type='set' id='c2b'>"
    "<conference-modify " C2 " meeting-id='" MEETING "'>"
    " <endpoint id='7b4f1a2c' stats-id='Jayme-Clv'>"
    "  <transport>"
    "   <transport " ICE " ufrag='Xk9a' pwd='asd88fgpdd777uzjYhagZg'>"
    "    <rtcp-mux/>"
    "    <fingerprint " DTLS " hash='sha-256' setup='active'>\n  3C:4A:5B:6C\n </fingerprint>"
    "    <candidate component='1' foundation='842163049' generation='0' id='1' "
    "ip='192.0.2.33' network='1' port='50000' priority='1677729535' protocol='udp' "
    "type='srflx' rel-addr='10.0.0.5' rel-port='50001'/>"
    "   </transport>"
    "  </transport>"
    "  <sources>"
    "   <media-source type='audio' id='7b4f1a2c-a0'>"
    "    <source " SSMA " ssrc='1' name='7b4f1a2c-a0'/></media-source>"
    "   <media-source type='video' id='7b4f1a2c-v0'>"
    "    <source " SSMA " ssrc='11' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <source " SSMA " ssrc='12' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <source " SSMA " ssrc='13' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <source " SSMA " ssrc='21' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <source " SSMA " ssrc='22' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <source " SSMA " ssrc='23' name='7b4f1a2c-v0' videoType='camera'/>"
    "    <ssrc-group " SSMA " semantics='SIM'><source ssrc='11'/><source ssrc='12'/>"
    "<source ssrc='13'/></ssrc-group>"
    "    <ssrc-group " SSMA " semantics='FID'><source ssrc='11'/><source ssrc='21'/></ssrc-group>"
    "    <ssrc-group " SSMA " semantics='FID'><source ssrc='12'/><source ssrc='22'/></ssrc-group>"
    "    <ssrc-group " SSMA " semantics='FID'><source ssrc='13'/><source ssrc='23'/></ssrc-group>"
    "   </media-source>"
    "  </sources>"
    "  <initial-last-n value='20'/>"
    " </endpoint>"
    "</conference-modify>"
    "</iq>";

/* §4.3 (3): expire one endpoint, then the conference. */
static const char req3a[] = "<iq type='set' id='c2c'><conference-modify " C2 " meeting-id='" MEETING
                            "'><endpoint id='7b4f1a2c' expire='true'/></conference-modify></iq>";
static const char req3b[] = "<iq type='set' id='c2d'><conference-modify " C2 " meeting-id='" MEETING
                            "' expire='true'/></iq>";

static xmpp_ctx_t *new_ctx(void)
{
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    CHECK(ctx != NULL);
    return ctx;
}

/* Parses xml (an iq or a bare element); the caller releases it. */
static xmpp_stanza_t *from_string(xmpp_ctx_t *ctx, const char *xml)
{
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(ctx, xml);
    CHECK(s != NULL);
    return s;
}

/* The conference-modify inside an iq, or the root itself. */
static xmpp_stanza_t *payload(xmpp_stanza_t *s)
{
    if (strcmp(xmpp_stanza_get_name(s), "iq") != 0)
        return s;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(s); c; c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            return c;
    return s;
}

static int parse_xml(const char *xml, c2_request *r, c2_error *e)
{
    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *s = from_string(ctx, xml);
    int rc = c2_parse_request(payload(s), r, e);
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

#define CHECK_HAS(hay, needle)                                                                     \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            fprintf(stderr, "%s:%d: \"%s\" not in:\n%s\n", __FILE__, __LINE__, (needle), (hay));   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void test_parse_request1(void)
{
    c2_request r;
    c2_error e;
    CHECK_INT(parse_xml(req1, &r, &e), 0);
    CHECK_STR(r.meeting_id, MEETING);
    CHECK_STR(r.name, "myroom@muc.meet.jitsi");
    CHECK(r.create && !r.expire);
    CHECK_INT(r.n_endpoints, 1);
    const c2_endpoint *ep = &r.endpoints[0];
    CHECK_STR(ep->id, "7b4f1a2c");
    CHECK(ep->create && !ep->expire);
    CHECK_STR(ep->stats_id, "Jayme-Clv");
    CHECK_STR(ep->muc_role, "");
    CHECK_INT(ep->n_media, 2);

    const c2_media *a = &ep->media[0];
    CHECK_INT(a->type, C2_MEDIA_AUDIO);
    CHECK_INT(a->n_payload_types, 1);
    CHECK_INT(a->payload_types[0].id, 111);
    CHECK_STR(a->payload_types[0].name, "opus");
    CHECK_INT(a->payload_types[0].clockrate, 48000);
    CHECK_INT(a->payload_types[0].channels, 2);
    CHECK_INT(a->payload_types[0].n_params, 2);
    CHECK_STR(a->payload_types[0].params[0].name, "minptime");
    CHECK_STR(a->payload_types[0].params[0].value, "10");
    CHECK_STR(a->payload_types[0].params[1].name, "useinbandfec");
    CHECK_STR(a->payload_types[0].params[1].value, "1");
    CHECK_INT(a->payload_types[0].n_rtcp_fbs, 1);
    CHECK_STR(a->payload_types[0].rtcp_fbs[0].type, "transport-cc");
    CHECK_STR(a->payload_types[0].rtcp_fbs[0].subtype, "");
    CHECK_INT(a->n_hdrexts, 1);
    CHECK_INT(a->hdrexts[0].id, 1);
    CHECK_STR(a->hdrexts[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    CHECK(a->extmap_allow_mixed);

    const c2_media *v = &ep->media[1];
    CHECK_INT(v->type, C2_MEDIA_VIDEO);
    CHECK_INT(v->n_payload_types, 2);
    CHECK_INT(v->payload_types[0].id, 100);
    CHECK_STR(v->payload_types[0].name, "VP8");
    CHECK_INT(v->payload_types[0].clockrate, 90000);
    CHECK_INT(v->payload_types[0].channels, 0);
    CHECK_INT(v->payload_types[0].n_rtcp_fbs, 4);
    CHECK_STR(v->payload_types[0].rtcp_fbs[0].type, "ccm");
    CHECK_STR(v->payload_types[0].rtcp_fbs[0].subtype, "fir");
    CHECK_STR(v->payload_types[0].rtcp_fbs[2].subtype, "pli");
    CHECK_INT(v->payload_types[1].id, 96);
    CHECK_STR(v->payload_types[1].name, "rtx");
    CHECK_INT(v->payload_types[1].n_params, 1);
    CHECK_STR(v->payload_types[1].params[0].name, "apt");
    CHECK_STR(v->payload_types[1].params[0].value, "100");
    CHECK_INT(v->n_hdrexts, 1);
    CHECK_INT(v->hdrexts[0].id, 3);
    CHECK_STR(v->hdrexts[0].uri, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
    CHECK(!v->extmap_allow_mixed);

    const c2_transport *t = &ep->transport;
    CHECK(t->present && t->ice_controlling && !t->ice_restart && !t->use_unique_port);
    CHECK(!t->has_ice);
    CHECK(t->sctp_present);
    CHECK_INT(t->sctp_port, 0);
    CHECK_STR(t->sctp_role, "");

    CHECK(ep->capabilities.source_names);
    CHECK(!ep->capabilities.ssrc_rewriting && !ep->capabilities.private_address_connectivity);
    CHECK_INT(ep->capabilities.n_unknown, 0);
    CHECK(!ep->has_sources);
    CHECK(!ep->force_mute.present && !ep->initial_last_n.present);
    c2_request_free(&r);
    CHECK(r.endpoints == NULL && r.n_endpoints == 0);
    c2_request_free(&r); /* idempotent */
}

static void test_parse_request2(void)
{
    c2_request r;
    c2_error e;
    CHECK_INT(parse_xml(req2, &r, &e), 0);
    CHECK(!r.create && !r.expire);
    CHECK_STR(r.name, "");
    CHECK_INT(r.n_endpoints, 1);
    const c2_endpoint *ep = &r.endpoints[0];
    CHECK(!ep->create && !ep->expire);
    CHECK_INT(ep->n_media, 0);

    const c2_transport *t = &ep->transport;
    CHECK(t->present && !t->ice_controlling && t->has_ice && !t->sctp_present);
    CHECK_STR(t->ufrag, "Xk9a");
    CHECK_STR(t->pwd, "asd88fgpdd777uzjYhagZg");
    CHECK(t->rtcp_mux);
    CHECK_INT(t->n_fingerprints, 1);
    CHECK_STR(t->fingerprints[0].hash, "sha-256");
    CHECK_STR(t->fingerprints[0].setup, "active");
    CHECK_STR(t->fingerprints[0].value, "3C:4A:5B:6C");
    CHECK_INT(t->n_candidates, 1);
    const c2_candidate *c = &t->candidates[0];
    CHECK_INT(c->component, 1);
    CHECK_STR(c->foundation, "842163049");
    CHECK_INT(c->generation, 0);
    CHECK_STR(c->id, "1");
    CHECK_STR(c->ip, "192.0.2.33");
    CHECK_INT(c->network, 1);
    CHECK_INT(c->port, 50000);
    CHECK_INT(c->priority, 1677729535);
    CHECK_STR(c->protocol, "udp");
    CHECK(!c->is_tcp);
    CHECK_STR(c->type, "srflx");
    CHECK_STR(c->rel_addr, "10.0.0.5");
    CHECK_INT(c->rel_port, 50001);
    CHECK(!t->has_web_socket);

    CHECK(ep->has_sources);
    CHECK_INT(ep->n_media_sources, 2);
    const c2_media_source *ma = &ep->media_sources[0], *mv = &ep->media_sources[1];
    CHECK_INT(ma->type, C2_MEDIA_AUDIO);
    CHECK_STR(ma->id, "7b4f1a2c-a0");
    CHECK_INT(ma->n_sources, 1);
    CHECK_INT(ma->sources[0].ssrc, 1);
    CHECK_STR(ma->sources[0].name, "7b4f1a2c-a0");
    CHECK_STR(ma->sources[0].video_type, "");
    CHECK_INT(ma->n_groups, 0);
    CHECK_INT(mv->type, C2_MEDIA_VIDEO);
    CHECK_STR(mv->id, "7b4f1a2c-v0");
    CHECK_INT(mv->n_sources, 6);
    static const uint32_t ssrcs[] = {11, 12, 13, 21, 22, 23};
    for (size_t i = 0; i < 6; i++) {
        CHECK_INT(mv->sources[i].ssrc, ssrcs[i]);
        CHECK_STR(mv->sources[i].video_type, "camera");
    }
    CHECK_INT(mv->n_groups, 4);
    CHECK_STR(mv->groups[0].semantics, "SIM");
    CHECK_INT(mv->groups[0].n_ssrcs, 3);
    CHECK_INT(mv->groups[0].ssrcs[2], 13);
    CHECK_STR(mv->groups[1].semantics, "FID");
    CHECK_INT(mv->groups[1].n_ssrcs, 2);
    CHECK_INT(mv->groups[1].ssrcs[0], 11);
    CHECK_INT(mv->groups[1].ssrcs[1], 21);
    CHECK_INT(mv->groups[3].ssrcs[1], 23);

    CHECK(ep->initial_last_n.present);
    CHECK_INT(ep->initial_last_n.value, 20);
    CHECK(!ep->capabilities.source_names);
    c2_request_free(&r);
}

static void test_parse_request3(void)
{
    c2_request r;
    c2_error e;
    CHECK_INT(parse_xml(req3a, &r, &e), 0);
    CHECK(!r.create && !r.expire);
    CHECK_INT(r.n_endpoints, 1);
    CHECK_STR(r.endpoints[0].id, "7b4f1a2c");
    CHECK(r.endpoints[0].expire && !r.endpoints[0].create);
    CHECK(!r.endpoints[0].transport.present && !r.endpoints[0].has_sources);
    c2_request_free(&r);

    CHECK_INT(parse_xml(req3b, &r, &e), 0);
    CHECK(r.expire && !r.create);
    CHECK_INT(r.n_endpoints, 0);
    CHECK(r.endpoints == NULL);
    c2_request_free(&r);
}

/* Other updates: force-mute, ice-restart, muc-role, capabilities, TCP and
 * IPv6 candidates, xs:boolean "1". */
static void test_parse_other_updates(void)
{
    c2_request r;
    c2_error e;
    const char *xml =
        "<conference-modify " C2 " meeting-id='m1'>"
        "<endpoint id='a.b_c-D9' create='1' muc-role='visitor'>"
        "<capability name='source-names'/><capability name='ssrc-rewriting'/>"
        "<capability name='private-address-connectivity'/><capability name='rtp-mid-demux'/>"
        "<force-mute audio='true' video='false'/>"
        "<initial-last-n value='-1'/>"
        "<transport ice-restart='true' use-unique-port='true'>"
        "<transport " ICE " ufrag='u' pwd='p'>"
        "<candidate component='1' foundation='1' ip='2001:db8::1' port='9' priority='1' "
        "protocol='tcp' type='host'/>"
        "<candidate component='1' foundation='2' ip='1f0e2b3c-4d5e-6f70-8192-a3b4c5d6e7f8.local' "
        "port='9' priority='1' protocol='udp' type='host'/>"
        "<web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://x/y'/>"
        "</transport><sctp port='5000' role='client'/></transport>"
        "<unknown-element/><media " RTP " type='bogus'/>"
        "</endpoint></conference-modify>";
    CHECK_INT(parse_xml(xml, &r, &e), 0);
    const c2_endpoint *ep = &r.endpoints[0];
    CHECK_STR(ep->id, "a.b_c-D9");
    CHECK(ep->create);
    CHECK_STR(ep->muc_role, "visitor");
    CHECK(ep->capabilities.source_names && ep->capabilities.ssrc_rewriting &&
          ep->capabilities.private_address_connectivity);
    CHECK_INT(ep->capabilities.n_unknown, 1);
    CHECK(ep->force_mute.present && ep->force_mute.audio && !ep->force_mute.video);
    CHECK(ep->initial_last_n.present);
    CHECK_INT(ep->initial_last_n.value, -1);
    CHECK(ep->transport.ice_restart && ep->transport.use_unique_port);
    CHECK_INT(ep->transport.n_candidates, 2);
    CHECK(ep->transport.candidates[0].is_tcp);
    CHECK(!ep->transport.candidates[0].mdns);
    CHECK(ep->transport.candidates[1].mdns); /* an RFC 8828 name is kept, flagged */
    CHECK_STR(ep->transport.candidates[0].ip, "2001:db8::1");
    CHECK(ep->transport.has_web_socket);
    CHECK_STR(ep->transport.web_socket_url, "wss://x/y");
    CHECK_INT(ep->transport.sctp_port, 5000);
    CHECK_STR(ep->transport.sctp_role, "client");
    CHECK_INT(ep->n_media, 0); /* <media> in another namespace is ignored */
    c2_request_free(&r);
}

typedef struct bad_case {
    const char *xml;
    const char *condition;
    const char *reason; /* "" for none */
    const char *text;   /* substring of the error text */
    const char *endpoint_id;
} bad_case;

#define CM "<conference-modify " C2 " meeting-id='m'>"
#define EP "<endpoint id='e1'>"
#define END "</endpoint></conference-modify>"
#define SRC(ssrc) "<source " SSMA " ssrc='" ssrc "'/>"
#define MSV(body) "<sources><media-source type='video' id='v'>" body "</media-source></sources>"
#define CAND(attrs)                                                                                \
    "<transport><transport " ICE " ufrag='u' pwd='p'><candidate " attrs "/>"                       \
    "</transport></transport>"
#define CAND_OK_BUT(x) "component='1' foundation='1' priority='1' type='host' " x
#define PT(attrs) "<media type='audio'><payload-type " RTP " " attrs "/></media>"
#define BR "bad-request"

static const bad_case bad_cases[] = {
    /* the element itself */
    {"<conference-modify " C2 "/>", BR, "", "meeting-id", ""},
    {"<conference-modify " C2 " meeting-id=''/>", BR, "", "meeting-id", ""},
    {"<conference-modified " C2 " meeting-id='m'/>", BR, "", "conference-modify", ""},
    {"<conference-modify xmlns='jitsi:colibri' meeting-id='m'/>", BR, "", "conference-modify", ""},
    {"<conference-modify " C2 " meeting-id='m' create='true' expire='true'/>", BR, "",
     "create and expire", ""},
    {"<conference-modify " C2 " meeting-id='m' create='yes'/>", BR, "", "boolean", ""},
    {"<conference-modify " C2 " meeting-id='m&#9;x'/>", BR, "", "control character", ""},
    {CM "<relay id='r1' create='true'/></conference-modify>", "feature-not-implemented",
     "feature_not_implemented", "relay", ""},
    /* endpoints */
    {CM "<endpoint/></conference-modify>", BR, "", "endpoint id", ""},
    {CM "<endpoint id='a/b'/></conference-modify>", BR, "", "endpoint id", ""},
    {CM "<endpoint id=''/></conference-modify>", BR, "", "endpoint id", ""},
    {CM "<endpoint id='12345678901234567890123456789012345678901234567890123456789012345'/>"
        "</conference-modify>",
     BR, "", "endpoint id", ""},
    {CM "<endpoint id='e1' create='true' expire='true'><capability name='source-names'/>" END, BR,
     "", "both create and expire", "e1"},
    {CM "<endpoint id='e1'/><endpoint id='e2'/><endpoint id='e1'/></conference-modify>", BR, "",
     "more than once", "e1"},
    {CM "<endpoint id='e1' create='true'>" END, BR, "", "Source name support is mandatory", "e1"},
    {CM "<endpoint id='e1' create='true'><capability " C2 "/>" END, BR, "", "capability", "e1"},
    {CM EP "<initial-last-n value='x'/>" END, BR, "", "initial-last-n", "e1"},
    {CM EP "<initial-last-n value='-2'/>" END, BR, "", "initial-last-n", "e1"},
    {CM EP "<force-mute audio='maybe'/>" END, BR, "", "boolean", "e1"},
    {CM EP "<force-mute/><force-mute/>" END, BR, "", "more than one", "e1"},
    {CM "<endpoint id='e1' stats-id='"
        "0123456789012345678901234567890123456789012345678901234567890123"
        "0123456789012345678901234567890123456789012345678901234567890123'/>"
        "</conference-modify>",
     BR, "", "longer than", "e1"},
    /* media */
    {CM EP PT("id='11a' name='x'") END, BR, "", "'id'", "e1"},
    {CM EP PT("id='128' name='x'") END, BR, "", "0..127", "e1"},
    {CM EP PT("id='-1' name='x'") END, BR, "", "'id'", "e1"},
    {CM EP PT("id=' 1' name='x'") END, BR, "", "'id'", "e1"},
    {CM EP PT("id='' name='x'") END, BR, "", "'id'", "e1"},
    {CM EP PT("name='x'") END, BR, "", "lacks the 'id'", "e1"},
    {CM EP PT("id='1'") END, BR, "", "lacks the 'name'", "e1"},
    {CM EP PT("id='1' name='x' clockrate='4294967296'") END, BR, "", "clockrate", "e1"},
    {CM EP PT("id='1' name='x' channels='0'") END, BR, "", "channels", "e1"},
    {CM EP "<media type='data'/>" END, BR, "", "audio or video", "e1"},
    {CM EP "<media type='audio'/><media type='audio'/>" END, BR, "", "duplicate media", "e1"},
    {CM EP "<media type='audio'><payload-type " RTP " id='1' name='a'/><payload-type " RTP
           " id='1' name='b'/></media>" END,
     BR, "", "duplicate payload type 1", "e1"},
    {CM EP "<media type='audio'><payload-type " RTP " id='1' name='a'>"
           "<parameter name='1'/><parameter name='2'/><parameter name='3'/><parameter name='4'/>"
           "<parameter name='5'/><parameter name='6'/><parameter name='7'/><parameter name='8'/>"
           "<parameter name='9'/></payload-type></media>" END,
     BR, "", "more than 8 parameters", "e1"},
    {CM EP "<media type='audio'><rtp-hdrext " HDREXT " id='0' uri='u'/></media>" END, BR, "",
     "1..255", "e1"},
    {CM EP "<media type='audio'><rtp-hdrext " HDREXT " id='256' uri='u'/></media>" END, BR, "",
     "1..255", "e1"},
    /* transport */
    {CM EP "<transport><transport " ICE "><candidate " CAND_OK_BUT(
         "ip='1.2.3.4' port='1' protocol='udp'") "/></transport></transport>" END,
     BR, "", "ufrag/pwd", "e1"},
    {CM EP "<transport><transport " ICE " ufrag='u'><fingerprint " DTLS
           " hash='sha-256' setup='active'>AB</fingerprint></transport></transport>" END,
     BR, "", "ufrag/pwd", "e1"},
    {CM EP "<transport><transport " ICE " ufrag='u' pwd='p'><fingerprint " DTLS
           " hash='sha-256' setup='bogus'>AB</fingerprint></transport></transport>" END,
     BR, "", "setup must be", "e1"},
    {CM EP "<transport><transport " ICE " ufrag='u' pwd='p'><fingerprint " DTLS
           " hash='sha-256'>AB</fingerprint></transport></transport>" END,
     BR, "", "setup must be", "e1"},
    {CM EP "<transport><transport " ICE " ufrag='u' pwd='p'><fingerprint " DTLS
           " hash='sha-256' setup='active'> </fingerprint></transport></transport>" END,
     BR, "", "empty fingerprint", "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='foo.example' port='1' protocol='udp'")) END, BR, "",
     "not an IP address", "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' port='0' protocol='udp'")) END, BR, "", "1..65535", "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' port='65536' protocol='udp'")) END, BR, "", "1..65535",
     "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' protocol='udp'")) END, BR, "", "'port'", "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' port='1' protocol='sctp'")) END, BR, "", "udp or tcp",
     "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' port='1'")) END, BR, "", "udp or tcp", "e1"},
    {CM EP CAND(CAND_OK_BUT("ip='1.2.3.4' port='1' protocol='udp' rel-addr='x'")) END, BR, "",
     "rel-addr", "e1"},
    {CM EP CAND("component='1' foundation='1' priority='1' type='bogus' ip='1.2.3.4' port='1' "
                "protocol='udp'") END,
     BR, "", "candidate type", "e1"},
    {CM EP "<transport><sctp port='70000'/></transport>" END, BR, "", "'port'", "e1"},
    {CM EP "<transport><sctp role='peer'/></transport>" END, BR, "", "sctp role", "e1"},
    {CM EP "<transport/><transport/>" END, BR, "", "more than one", "e1"},
    {CM EP "<transport ice-controlling='TRUE'/>" END, BR, "", "boolean", "e1"},
    /* sources */
    {CM EP MSV(SRC("0")) END, BR, "", "'ssrc'", "e1"},
    {CM EP MSV(SRC("4294967296")) END, BR, "", "'ssrc'", "e1"},
    {CM EP MSV(SRC("1x")) END, BR, "", "'ssrc'", "e1"},
    {CM EP MSV(SRC("5") SRC("5")) END, BR, "", "ssrc 5 is used more than once", "e1"},
    {CM "<endpoint id='e1'>" MSV(SRC("5")) "</endpoint><endpoint id='e2'>" MSV(SRC("5")) END, BR,
     "", "ssrc 5 is used more than once", "e2"},
    {CM EP "<sources><media-source type='audio' id='a'>" SRC(
         "7") "</media-source>"
              "<media-source type='video' id='v'>" SRC(
                  "8") "<ssrc-group " SSMA
                       " semantics='FID'><source ssrc='8'/><source ssrc='7'/></ssrc-group>"
                       "</media-source></sources>" END,
     BR, "", "names ssrc 7", "e1"},
    {CM EP MSV(SRC("8") "<ssrc-group " SSMA " semantics='SIM'/>") END, BR, "", "empty ssrc-group",
     "e1"},
    {CM EP MSV(SRC("8") "<ssrc-group " SSMA "><source ssrc='8'/></ssrc-group>") END, BR, "",
     "semantics", "e1"},
    {CM EP MSV(SRC("8") "<ssrc-group " SSMA " semantics='FID'><source ssrc='8'/><source "
                        "ssrc='8'/></ssrc-group>") END,
     BR, "", "repeated", "e1"},
    {CM EP "<sources><media-source type='video'>" SRC("1") "</media-source></sources>" END, BR, "",
     "'id'", "e1"},
    {CM EP "<sources><media-source type='video' id='x'/><media-source type='audio' id='x'/>"
           "</sources>" END,
     BR, "", "duplicate media-source", "e1"},
};

static void test_validation(void)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        c2_request r;
        c2_error e;
        memset(&e, 0, sizeof e);
        int rc = parse_xml(bc->xml, &r, &e);
        if (rc != -1 || strcmp(e.condition, bc->condition) || strcmp(e.reason, bc->reason) ||
            !strstr(e.text, bc->text) || strcmp(e.endpoint_id, bc->endpoint_id)) {
            fprintf(stderr, "case %zu: %s\n rc=%d type=%s condition=%s reason=%s ep=%s text=%s\n",
                    i, bc->xml, rc, e.type, e.condition, e.reason, e.endpoint_id, e.text);
            exit(1);
        }
        CHECK_STR(e.type, strcmp(bc->condition, BR) ? "cancel" : "modify");
        CHECK(r.endpoints == NULL && r.n_endpoints == 0);
        c2_request_free(&r);
    }
}

/* Appends printf output to a growing buffer. */
static void cat(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    CHECK(n >= 0 && (size_t)n < sizeof tmp);
    *buf = realloc(*buf, *len + (size_t)n + 1);
    CHECK(*buf != NULL);
    memcpy(*buf + *len, tmp, (size_t)n + 1);
    *len += (size_t)n;
}

/* Counts over their bounds: endpoints, candidates, sources. */
static void test_bounds(void)
{
    c2_request r;
    c2_error e;
    for (int n = C2_MAX_ENDPOINTS; n <= C2_MAX_ENDPOINTS + 1; n++) {
        char *x = NULL;
        size_t len = 0;
        cat(&x, &len, "<conference-modify " C2 " meeting-id='m'>");
        for (int i = 0; i < n; i++)
            cat(&x, &len, "<endpoint id='e%d'/>", i);
        cat(&x, &len, "</conference-modify>");
        int rc = parse_xml(x, &r, &e);
        free(x);
        if (n == C2_MAX_ENDPOINTS) {
            CHECK_INT(rc, 0);
            CHECK_INT(r.n_endpoints, C2_MAX_ENDPOINTS);
            CHECK_STR(r.endpoints[63].id, "e63");
            c2_request_free(&r);
        } else {
            CHECK_INT(rc, -1);
            CHECK_STR(e.condition, "bad-request");
            CHECK(strstr(e.text, "more than 64 endpoints"));
        }
    }
    for (int n = C2_MAX_CANDIDATES; n <= C2_MAX_CANDIDATES + 1; n++) {
        char *x = NULL;
        size_t len = 0;
        cat(&x, &len, CM EP "<transport><transport " ICE " ufrag='u' pwd='p'>");
        for (int i = 0; i < n; i++)
            cat(&x, &len,
                "<candidate component='1' foundation='%d' ip='10.0.0.%d' port='%d' "
                "priority='1' protocol='udp' type='host'/>",
                i, i, 1000 + i);
        cat(&x, &len, "</transport></transport>" END);
        int rc = parse_xml(x, &r, &e);
        free(x);
        CHECK_INT(rc, n == C2_MAX_CANDIDATES ? 0 : -1);
        if (rc == 0)
            CHECK_INT(r.endpoints[0].transport.n_candidates, C2_MAX_CANDIDATES);
        else
            CHECK(strstr(e.text, "more than 32 candidates"));
        c2_request_free(&r);
    }
    for (int n = C2_MAX_SOURCES; n <= C2_MAX_SOURCES + 1; n++) {
        char *x = NULL;
        size_t len = 0;
        cat(&x, &len, CM EP "<sources><media-source type='video' id='v'>");
        for (int i = 0; i < n; i++)
            cat(&x, &len, "<source " SSMA " ssrc='%d'/>", 100 + i);
        cat(&x, &len, "</media-source></sources>" END);
        int rc = parse_xml(x, &r, &e);
        free(x);
        CHECK_INT(rc, n == C2_MAX_SOURCES ? 0 : -1);
        c2_request_free(&r);
    }
}

/* The §4.3 answer. */
static void fill_answer(c2_answer *a, c2_answer_endpoint *ae)
{
    memset(a, 0, sizeof *a);
    memset(ae, 0, sizeof *ae);
    strcpy(ae->id, "7b4f1a2c");
    ae->has_transport = true;
    strcpy(ae->ufrag, "26ant1ioqu7qnr");
    strcpy(ae->pwd, "9q8uj7tg6j4rc4i6ulc1pmsq9");
    strcpy(ae->fingerprint.value, "F1:05:C0");
    ae->n_candidates = 2;
    c2_candidate *c = &ae->candidates[0];
    c->component = 1;
    strcpy(c->foundation, "1");
    strcpy(c->id, "5bbb1");
    strcpy(c->ip, "172.18.0.4");
    c->port = 10000;
    c->priority = 2130706431;
    strcpy(c->type, "host");
    c = &ae->candidates[1];
    c->component = 1;
    strcpy(c->foundation, "2");
    strcpy(c->id, "56f82");
    strcpy(c->ip, "198.51.100.9");
    c->port = 10000;
    c->priority = 1694498815;
    strcpy(c->type, "srflx");
    strcpy(c->rel_addr, "172.18.0.4");
    c->rel_port = 10000;
    strcpy(ae->ws_url, "wss://meet.example.com/colibri-ws/default-id/7e441eda3701676e/7b4f1a2c"
                       "?pwd=Ab3");
    ae->sctp_port = 5000;
    a->endpoints = ae;
    a->n_endpoints = 1;
    a->include_sources = true;
    a->audio.ssrc = 3191927963u;
    a->video.ssrc = 1863439907u;
}

static void test_build_modified(void)
{
    xmpp_ctx_t *ctx = new_ctx();
    c2_answer a;
    c2_answer_endpoint *ae = calloc(1, sizeof *ae);
    fill_answer(&a, ae);
    xmpp_stanza_t *s = c2_build_modified(ctx, &a);
    char *txt = to_text(s);
    CHECK_HAS(txt, "<conference-modified xmlns=\"jitsi:colibri2\"><endpoint id=\"7b4f1a2c\">"
                   "<transport><transport ");
    CHECK_HAS(txt, "xmlns=\"urn:xmpp:jingle:transports:ice-udp:1\"");
    CHECK_HAS(txt, "ufrag=\"26ant1ioqu7qnr\"");
    CHECK_HAS(txt, "pwd=\"9q8uj7tg6j4rc4i6ulc1pmsq9\"");
    CHECK_HAS(txt, "component=\"1\"");
    CHECK_HAS(txt, "foundation=\"1\"");
    CHECK_HAS(txt, "generation=\"0\"");
    CHECK_HAS(txt, "id=\"5bbb1\"");
    CHECK_HAS(txt, "ip=\"172.18.0.4\"");
    CHECK_HAS(txt, "network=\"0\"");
    CHECK_HAS(txt, "port=\"10000\"");
    CHECK_HAS(txt, "priority=\"2130706431\"");
    CHECK_HAS(txt, "protocol=\"udp\"");
    CHECK_HAS(txt, "type=\"host\"");
    CHECK_HAS(txt, "priority=\"1694498815\"");
    CHECK_HAS(txt, "type=\"srflx\"");
    CHECK_HAS(txt, "rel-addr=\"172.18.0.4\"");
    CHECK_HAS(txt, "rel-port=\"10000\"");
    CHECK_HAS(txt, "<rtcp-mux/><fingerprint ");
    CHECK_HAS(txt, "xmlns=\"urn:xmpp:jingle:apps:dtls:0\"");
    CHECK_HAS(txt, "hash=\"sha-256\"");
    CHECK_HAS(txt, "setup=\"actpass\"");
    CHECK_HAS(txt, ">F1:05:C0</fingerprint><web-socket ");
    CHECK_HAS(txt, "xmlns=\"http://jitsi.org/protocol/colibri\"");
    CHECK_HAS(txt, "url=\"wss://meet.example.com/colibri-ws/default-id/7e441eda3701676e/7b4f1a2c"
                   "?pwd=Ab3\"");
    CHECK_HAS(txt, "</transport><sctp ");
    CHECK_HAS(txt, "port=\"5000\"");
    CHECK_HAS(txt, "role=\"server\"");
    CHECK_HAS(txt, "</transport></endpoint><sources><media-source ");
    CHECK_HAS(txt, "type=\"audio\"");
    CHECK_HAS(txt, "id=\"jvb-a0\"");
    CHECK_HAS(txt, "<source ");
    CHECK_HAS(txt, "xmlns=\"urn:xmpp:jingle:apps:rtp:ssma:0\"");
    CHECK_HAS(txt, "ssrc=\"3191927963\"");
    CHECK_HAS(txt, "name=\"jvb-a0\"");
    CHECK_HAS(txt, "id=\"jvb-v0\"");
    CHECK_HAS(txt, "ssrc=\"1863439907\"");
    CHECK_HAS(txt, "name=\"jvb-v0\"");
    CHECK_HAS(txt, "</media-source></sources></conference-modified>");
    CHECK(!strstr(txt, "xmlns=\"jitsi:colibri2\"><endpoint xmlns"));

    /* parse back: the tree directly, and the serialized text */
    for (int pass = 0; pass < 2; pass++) {
        xmpp_stanza_t *t = pass ? from_string(ctx, txt) : s;
        c2_answer b;
        c2_error e;
        CHECK_INT(c2_parse_modified(t, &b, &e), 0);
        CHECK_INT(b.n_endpoints, 1);
        const c2_answer_endpoint *be = &b.endpoints[0];
        CHECK_STR(be->id, "7b4f1a2c");
        CHECK(be->has_transport);
        CHECK_STR(be->ufrag, ae->ufrag);
        CHECK_STR(be->pwd, ae->pwd);
        CHECK_STR(be->fingerprint.value, "F1:05:C0");
        CHECK_STR(be->fingerprint.hash, "sha-256");
        CHECK_STR(be->fingerprint.setup, "actpass");
        CHECK_INT(be->n_candidates, 2);
        CHECK_STR(be->candidates[0].ip, "172.18.0.4");
        CHECK_STR(be->candidates[0].protocol, "udp");
        CHECK_INT(be->candidates[0].priority, 2130706431);
        CHECK_STR(be->candidates[1].rel_addr, "172.18.0.4");
        CHECK_INT(be->candidates[1].rel_port, 10000);
        CHECK_STR(be->ws_url, ae->ws_url);
        CHECK_INT(be->sctp_port, 5000);
        CHECK_STR(be->sctp_role, "server");
        CHECK(b.include_sources);
        CHECK_INT(b.audio.ssrc, 3191927963u);
        CHECK_STR(b.audio.name, "jvb-a0");
        CHECK_INT(b.video.ssrc, 1863439907u);
        CHECK_STR(b.video.name, "jvb-v0");
        c2_answer_free(&b);
        CHECK(b.endpoints == NULL);
        if (pass)
            xmpp_stanza_release(t);
    }
    xmpp_free(ctx, txt);
    xmpp_stanza_release(s);

    /* an endpoint without transport, no sources, no web-socket */
    ae->has_transport = false;
    a.include_sources = false;
    s = c2_build_modified(ctx, &a);
    txt = to_text(s);
    CHECK_STR(txt, "<conference-modified xmlns=\"jitsi:colibri2\"><endpoint id=\"7b4f1a2c\"/>"
                   "</conference-modified>");
    c2_answer b;
    CHECK_INT(c2_parse_modified(s, &b, NULL), 0);
    CHECK(!b.endpoints[0].has_transport && !b.include_sources);
    c2_answer_free(&b);
    xmpp_free(ctx, txt);
    xmpp_stanza_release(s);
    free(ae);
    xmpp_ctx_free(ctx);
}

static void test_parse_modified_errors(void)
{
    xmpp_ctx_t *ctx = new_ctx();
    static const char *const bad[] = {
        "<conference-modify " C2 "/>",
        "<conference-modified " C2 "><endpoint id='a b'/></conference-modified>",
        "<conference-modified " C2 "><endpoint id='a'/><endpoint id='a'/></conference-modified>",
        "<conference-modified " C2 "><endpoint id='a'><transport><transport " ICE " ufrag='u' "
        "pwd='p'><fingerprint " DTLS " hash='sha-256' setup='actpass'>A</fingerprint>"
        "<fingerprint " DTLS " hash='sha-1' setup='actpass'>B</fingerprint>"
        "</transport></transport></endpoint></conference-modified>",
        "<conference-modified " C2 "><endpoint id='a'><transport><transport " ICE " ufrag='u' "
        "pwd='p'><candidate component='1' foundation='1' ip='host.example' port='1' priority='1' "
        "protocol='udp' type='host'/></transport></transport></endpoint></conference-modified>",
        "<conference-modified " C2 "><sources><media-source type='audio' id='a'/></sources>"
        "</conference-modified>",
        "<conference-modified " C2 "><sources><media-source type='audio' id='a'>" SRC(
            "1") "</media-source><media-source type='audio' id='b'>" SRC("2") "</media-source>"
                                                                              "</sources></"
                                                                              "conference-"
                                                                              "modified>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmpp_stanza_t *s = from_string(ctx, bad[i]);
        c2_answer a;
        c2_error e;
        if (c2_parse_modified(s, &a, &e) != -1) {
            fprintf(stderr, "case %zu accepted: %s\n", i, bad[i]);
            exit(1);
        }
        CHECK_STR(e.condition, "bad-request");
        CHECK(a.endpoints == NULL);
        xmpp_stanza_release(s);
    }
    xmpp_ctx_free(ctx);
}

/* Parses xml, builds it back, parses that (as a tree and as text) and
 * checks the two parses are byte-identical. */
static void roundtrip(xmpp_ctx_t *ctx, const char *xml)
{
    c2_request r1;
    c2_error e;
    CHECK_INT(parse_xml(xml, &r1, &e), 0);
    xmpp_stanza_t *s = c2_build_request(ctx, &r1);
    char *txt = to_text(s);
    for (int pass = 0; pass < 2; pass++) {
        xmpp_stanza_t *t = pass ? from_string(ctx, txt) : s;
        c2_request r2;
        if (c2_parse_request(t, &r2, &e) != 0) {
            fprintf(stderr, "reparse failed: %s\n%s\n", e.text, txt);
            exit(1);
        }
        CHECK_STR(r2.meeting_id, r1.meeting_id);
        CHECK_STR(r2.name, r1.name);
        CHECK(r2.create == r1.create && r2.expire == r1.expire);
        CHECK_INT(r2.n_endpoints, r1.n_endpoints);
        CHECK(r1.n_endpoints == 0 ||
              memcmp(r1.endpoints, r2.endpoints, r1.n_endpoints * sizeof r1.endpoints[0]) == 0);
        c2_request_free(&r2);
        if (pass)
            xmpp_stanza_release(t);
    }
    xmpp_free(ctx, txt);
    xmpp_stanza_release(s);
    c2_request_free(&r1);
}

static void test_request_roundtrip(void)
{
    xmpp_ctx_t *ctx = new_ctx();
    roundtrip(ctx, req1);
    roundtrip(ctx, req2);
    roundtrip(ctx, req3a);
    roundtrip(ctx, req3b);
    roundtrip(ctx, "<conference-modify " C2 " meeting-id='m1'>"
                   "<endpoint id='x' create='true' muc-role='visitor'>"
                   "<capability name='source-names'/><capability name='ssrc-rewriting'/>"
                   "<capability name='private-address-connectivity'/>"
                   "<force-mute audio='false' video='true'/><initial-last-n value='-1'/>"
                   "<transport ice-restart='true' use-unique-port='true'>"
                   "<transport " ICE " ufrag='u' pwd='p'>"
                   "<candidate component='2' foundation='1' ip='2001:db8::1' port='9' priority='1' "
                   "protocol='tcp' type='host' generation='3' network='4'/>"
                   "<web-socket xmlns='http://jitsi.org/protocol/colibri' url='wss://x/y'/>"
                   "</transport><sctp port='5000' role='client'/></transport>"
                   "<sources/></endpoint><endpoint id='y' expire='true'/></conference-modify>");

    /* the built request has the §4.3 shape */
    c2_request r;
    c2_error e;
    CHECK_INT(parse_xml(req1, &r, &e), 0);
    xmpp_stanza_t *s = c2_build_request(ctx, &r);
    char *txt = to_text(s);
    CHECK_HAS(txt, "<conference-modify ");
    CHECK_HAS(txt, "meeting-id=\"" MEETING "\"");
    CHECK_HAS(txt, "name=\"myroom@muc.meet.jitsi\"");
    CHECK_HAS(txt, "create=\"true\"");
    CHECK_HAS(txt, "<media type=\"audio\"><payload-type ");
    CHECK_HAS(txt, "<parameter ");
    CHECK_HAS(txt, "<rtcp-fb xmlns=\"urn:xmpp:jingle:apps:rtp:rtcp-fb:0\" type=\"transport-cc\"/>");
    CHECK_HAS(txt, "<extmap-allow-mixed xmlns=\"urn:xmpp:jingle:apps:rtp:rtp-hdrext:0\"/>");
    CHECK_HAS(txt, "<transport ice-controlling=\"true\"><sctp/></transport>");
    CHECK_HAS(txt, "<capability name=\"source-names\"/></endpoint></conference-modify>");
    xmpp_free(ctx, txt);
    xmpp_stanza_release(s);
    c2_request_free(&r);
    xmpp_ctx_free(ctx);
}

static void test_error_iq(void)
{
    xmpp_ctx_t *ctx = new_ctx();
    xmpp_stanza_t *req = from_string(ctx, req1);
    c2_error e;
    c2_error_set(&e, "cancel", "item-not-found", "unknown_endpoint", "7b4f1a2c",
                 "Unknown endpoint %s", "7b4f1a2c");
    CHECK_STR(e.text, "Unknown endpoint 7b4f1a2c");
    xmpp_stanza_t *iq = c2_build_error_iq(ctx, req, &e);
    CHECK_STR(xmpp_stanza_get_type(iq), "error");
    CHECK_STR(xmpp_stanza_get_id(iq), "c2a");
    CHECK_STR(xmpp_stanza_get_from(iq), "jvbbrewery@internal-muc.meet.jitsi/jvb-1");
    CHECK(xmpp_stanza_get_to(iq) == NULL); /* the request had no from */
    xmpp_stanza_t *er = xmpp_stanza_get_child_by_name(iq, "error");
    CHECK(er != NULL);
    CHECK_STR(xmpp_stanza_get_attribute(er, "type"), "cancel");
    CHECK(xmpp_stanza_get_child_by_name_and_ns(er, "item-not-found", C2_NS_STANZAS) != NULL);
    xmpp_stanza_t *text = xmpp_stanza_get_child_by_name_and_ns(er, "text", C2_NS_STANZAS);
    CHECK(text != NULL);
    char *t = xmpp_stanza_get_text(text);
    CHECK_STR(t, "Unknown endpoint 7b4f1a2c");
    xmpp_free(ctx, t);
    xmpp_stanza_t *c2e = xmpp_stanza_get_child_by_name_and_ns(er, "error", C2_NS);
    CHECK(c2e != NULL);
    CHECK_STR(xmpp_stanza_get_attribute(c2e, "reason"), "unknown_endpoint");
    xmpp_stanza_t *ep = xmpp_stanza_get_child_by_name_and_ns(er, "endpoint", C2_NS);
    CHECK(ep != NULL);
    CHECK_STR(xmpp_stanza_get_attribute(ep, "id"), "7b4f1a2c");
    char *txt = to_text(iq);
    CHECK_HAS(txt, "<item-not-found xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\"/>");
    CHECK_HAS(txt, "<text xmlns=\"urn:ietf:params:xml:ns:xmpp-stanzas\">Unknown endpoint "
                   "7b4f1a2c</text>");
    CHECK_HAS(txt, "<error xmlns=\"jitsi:colibri2\" reason=\"unknown_endpoint\"/>");
    CHECK_HAS(txt, "<endpoint ");
    xmpp_free(ctx, txt);
    xmpp_stanza_release(iq);
    xmpp_stanza_release(req);

    /* a parse failure: bad-request, no colibri2 reason, to = the request's from */
    req =
        from_string(ctx, "<iq type='set' id='q1' from='focus@auth.meet.jitsi/focus' to='jvb@x/y'>"
                         "<conference-modify " C2 " meeting-id='m'><endpoint id='e' create='true'/>"
                         "</conference-modify></iq>");
    c2_request r;
    CHECK_INT(c2_parse_request(payload(req), &r, &e), -1);
    iq = c2_build_error_iq(ctx, req, &e);
    txt = to_text(iq);
    CHECK_STR(xmpp_stanza_get_to(iq), "focus@auth.meet.jitsi/focus");
    CHECK_STR(xmpp_stanza_get_from(iq), "jvb@x/y");
    CHECK_STR(xmpp_stanza_get_id(iq), "q1");
    CHECK_HAS(txt, "<error type=\"modify\"><bad-request ");
    CHECK_HAS(txt, ">Source name support is mandatory</text></error></iq>");
    CHECK(!strstr(txt, "jitsi:colibri2"));
    xmpp_free(ctx, txt);
    xmpp_stanza_release(iq);

    /* other reasons carry no <endpoint> */
    c2_error_set(&e, "cancel", "conflict", "conference_already_exists", "e", "exists");
    iq = c2_build_error_iq(ctx, req, &e);
    txt = to_text(iq);
    CHECK_HAS(txt, "<conflict ");
    CHECK_HAS(txt, "reason=\"conference_already_exists\"");
    CHECK(!strstr(txt, "<endpoint"));
    xmpp_free(ctx, txt);
    xmpp_stanza_release(iq);
    xmpp_stanza_release(req);

    /* NULL reason / endpoint are stored as "", a NULL error is a no-op */
    c2_error_set(&e, "wait", "service-unavailable", NULL, NULL, "shutting down");
    CHECK_STR(e.reason, "");
    CHECK_STR(e.endpoint_id, "");
    CHECK_STR(e.type, "wait");
    c2_error_set(NULL, "wait", "x", NULL, NULL, "y");
    xmpp_ctx_free(ctx);
}

TEST_MAIN(TEST(test_parse_request1), TEST(test_parse_request2), TEST(test_parse_request3),
          TEST(test_parse_other_updates), TEST(test_validation), TEST(test_bounds),
          TEST(test_build_modified), TEST(test_parse_modified_errors), TEST(test_request_roundtrip),
          TEST(test_error_iq))
