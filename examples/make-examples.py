#!/usr/bin/env python3
"""Generate the dmarcsift example DMARC aggregate reports (python3 standard library only).

    python3 examples/make-examples.py            # (re)write every example file
    python3 examples/make-examples.py --check    # verify files == generator output,
                                                 # re-parse them, print the README tables

All data is fictional and written in this script.  Every timestamp that ends up in
a file (zip entry times, gzip header mtime, mail Date headers) is fixed, so two runs
produce byte-identical files (given the same zlib build; see README.md).

Scenario letters (A..H, S) follow examples/README.md.
"""

import base64
import calendar
import email
import email.policy
import gzip
import io
import ipaddress
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
# the data files live in reports/, so that `dmarc-ingest examples/reports`
# reads only reports (this script and README.md would be rejected as text)
OUT = os.path.join(HERE, "reports")

# --------------------------------------------------------------------------------------
# The reporting day: Tuesday 2026-11-24, 00:00:00 .. 23:59:59 UTC
# --------------------------------------------------------------------------------------
BEGIN = calendar.timegm((2026, 11, 24, 0, 0, 0))   # 1795478400
END = BEGIN + 86399                                 # 1795564799

# Amazon SES outbound ranges (the ip4: list of the amazonses.com SPF record, reference notes 2.4)
SES_RANGES = [ipaddress.ip_network(n) for n in (
    "199.255.192.0/22", "199.127.232.0/22", "54.240.0.0/18", "69.169.224.0/20",
    "23.249.208.0/20", "23.251.224.0/19", "76.223.176.0/20", "54.240.64.0/18",
    "76.223.128.0/19", "216.221.160.0/19", "206.55.144.0/20", "24.110.64.0/18")]
# RFC 5737 / RFC 3849 documentation ranges: the only place unknown/spoofing sources may live
DOC_RANGES = [ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
GOOGLE_RANGE = ipaddress.ip_network("209.85.128.0/17")
SENDGRID_RANGE = ipaddress.ip_network("149.72.0.0/16")

# DKIM selectors (32-char base32 tokens).  The customers' Easy DKIM tokens are invented for
# these examples (they are per identity *and per region*).  The d=amazonses.com selectors are
# SES's own, one set per region, as observed in public message headers
# (../shared/reference/ses-region-evidence.md; dmarcsift's table in report/ses-region.c):
# they are how a report shows the region of mail with a custom MAIL FROM.
SEL = {
    "ec_use1": "h3kq7vzdxm5wb2ylr6aentcfo4gpujsi",   # example.com Easy DKIM, us-east-1 (A)
    "ec_good": "pz4cwn7eybq2lhd6tkrs3m5xoafvgiju",   # example.com Easy DKIM, healthy region (C)
    "ec_use2": "t6yrm2qkxc4ndw7bz5ehl3pfajosuvgi",   # example.com Easy DKIM, us-east-2 (D)
    "ec_usw2": "wq5bn3ezk7dtcj2mxh6pyvlfogr4asiu",   # example.com Easy DKIM, us-west-2, CNAMEs wrong (E)
    "en_use1": "ce2ajx7rkq5mdpu3ytvw6znhfb4lsgoi",   # example.net Easy DKIM (F)
    "ses_use1": "6gbrjpgwjskckoa6a5zn6fwqkn67xbtw",  # d=amazonses.com signature, us-east-1
    "ses_euw1": "uku4taia5b5tsbglxyj6zym32efj7xqv",  # d=amazonses.com signature, eu-west-1
    "ses_usw2": "7v7vs6w47njt4pimodk5mmttbegzsi6n",  # d=amazonses.com signature, us-west-2
    "ses_use2": "xplzuhjr4seloozmmorg6obznvt7ijlt",  # d=amazonses.com signature, us-east-2
    "ses_good": "54ecsf3zk7z4mwxwwox7z7bg6e5gwjsz",  # d=amazonses.com signature, eu-central-1 (C)
    "ses_apne1": "zh4gjftm6etwoq6afzugpky45synznly",  # d=amazonses.com signature, ap-northeast-1 (R)
}
# SES's region of an amazonses.com selector, and of a source /24 (the same reference; only the
# entries these examples use): the checker below derives regions from them independently.
SES_SELECTOR_REGION = {
    SEL["ses_use1"]: "us-east-1", SEL["ses_euw1"]: "eu-west-1", SEL["ses_usw2"]: "us-west-2",
    SEL["ses_use2"]: "us-east-2", SEL["ses_good"]: "eu-central-1", SEL["ses_apne1"]: "ap-northeast-1",
}
SES_NET_REGION = {
    "54.240.8": "us-east-1", "54.240.9": "us-east-1", "54.240.27": "us-west-2",
    "54.240.6": "eu-west-1", "54.240.7": "eu-west-1", "23.251.226": "us-east-2",
    "69.169.224": "eu-central-1", "69.169.227": "eu-central-1",
}
for _v in SEL.values():
    assert re.fullmatch(r"[a-z2-7]{32}", _v), _v


# --------------------------------------------------------------------------------------
# Records.  A record carries everything any reporter might write; each reporter style
# below drops what that reporter does not emit (Google/Yahoo: no envelope_from, no SPF
# scope; only Microsoft writes envelope_to; ...).
# --------------------------------------------------------------------------------------
class Rec:
    def __init__(self, scen, ip, count, pdkim, pspf, header_from, env, dkim, spf,
                 disp="none", env_to=None, reasons=()):
        self.scen = scen              # scenario letter, for the generator's own cross-check only
        self.ip = ip
        self.count = count
        self.disp = disp
        self.pdkim = pdkim            # policy_evaluated/dkim (aligned result)
        self.pspf = pspf              # policy_evaluated/spf  (aligned result)
        self.header_from = header_from
        self.env = env                # RFC5321.MailFrom domain
        self.env_to = env_to
        self.dkim = list(dkim)        # [(d=, s=, result)]
        self.spf = spf                # (domain, result) or None
        self.reasons = list(reasons)  # [(type, comment)]


def A(ip, n, **kw):   # SES us-east-1, default MAIL FROM, Easy DKIM ok
    return Rec("A", ip, n, "pass", "fail", "example.com", "amazonses.com",
               [("example.com", SEL["ec_use1"], "pass"), ("amazonses.com", SEL["ses_use1"], "pass")],
               ("amazonses.com", "pass"), **kw)


def B(ip, n, **kw):   # SES eu-west-1, default MAIL FROM, no Easy DKIM
    return Rec("B", ip, n, "fail", "fail", "example.com", "eu-west-1.amazonses.com",
               [("amazonses.com", SEL["ses_euw1"], "pass")],
               ("eu-west-1.amazonses.com", "pass"), **kw)


def C(ip, n, **kw):   # SES, custom MAIL FROM mail.example.com, Easy DKIM ok: healthy
    return Rec("C", ip, n, "pass", "pass", "example.com", "mail.example.com",
               [("example.com", SEL["ec_good"], "pass"), ("amazonses.com", SEL["ses_good"], "pass")],
               ("mail.example.com", "pass"), **kw)


def D(ip, n, spfres, **kw):   # SES us-east-2, custom MAIL FROM bounce.example.com without SPF
    return Rec("D", ip, n, "pass", "fail", "example.com", "bounce.example.com",
               [("example.com", SEL["ec_use2"], "pass"), ("amazonses.com", SEL["ses_use2"], "pass")],
               ("bounce.example.com", spfres), **kw)


def E(ip, n, order9990=False, **kw):   # SES us-west-2, default MAIL FROM, example.com DKIM fails
    dk = [("example.com", SEL["ec_usw2"], "fail"), ("amazonses.com", SEL["ses_usw2"], "pass")]
    if order9990:   # RFC 9990: passing signatures before non-passing ones
        dk.reverse()
    return Rec("E", ip, n, "fail", "fail", "example.com", "us-west-2.amazonses.com", dk,
               ("us-west-2.amazonses.com", "pass"), **kw)


def F(ip, n, **kw):   # example.net (adkim=s, aspf=s): SES custom MAIL FROM mail.example.net
    return Rec("F", ip, n, "pass", "fail", "example.net", "mail.example.net",
               [("example.net", SEL["en_use1"], "pass"), ("amazonses.com", SEL["ses_use1"], "pass")],
               ("mail.example.net", "pass"), **kw)


def R(ip, n, **kw):   # SES ap-northeast-1 (the selector shows it), custom MAIL FROM, no Easy DKIM there
    return Rec("R", ip, n, "fail", "pass", "example.com", "mail.example.com",
               [("amazonses.com", SEL["ses_apne1"], "pass")],
               ("mail.example.com", "pass"), **kw)


def W(ip, n, **kw):   # A's SES mail forwarded by a Google address: every signature broken
    return Rec("W", ip, n, "fail", "fail", "example.com", "amazonses.com",
               [("example.com", SEL["ec_use1"], "fail"), ("amazonses.com", SEL["ses_use1"], "fail")],
               ("amazonses.com", "fail"), **kw)


def G(ip, n, **kw):   # Google Workspace with custom DKIM (s=google)
    return Rec("G", ip, n, "pass", "pass", "example.com", "example.com",
               [("example.com", "google", "pass")], ("example.com", "pass"), **kw)


def G_default(ip, n, **kw):   # Google Workspace, only the default gappssmtp.com signature
    return Rec("G", ip, n, "fail", "pass", "example.com", "example.com",
               [("example-com.20230601.gappssmtp.com", "20230601", "pass")],
               ("example.com", "pass"), **kw)


def S(ip, n, **kw):   # SendGrid: d=example.com s1 (aligned), bounces via sendgrid.net (unaligned)
    return Rec("S", ip, n, "pass", "fail", "example.com", "sendgrid.net",
               [("example.com", "s1", "pass")], ("sendgrid.net", "pass"), **kw)


def H(ip, n, env, header_from="example.com", **kw):   # unknown / spoofing source
    return Rec("H", ip, n, "fail", "fail", header_from, env, [], (env, "fail"), **kw)


# --------------------------------------------------------------------------------------
# The reports
# --------------------------------------------------------------------------------------
GOOGLE_ID = "11893267450127365204"
MS_ID = "4e1c7a90d2b34f6e8a15c9d07b3e2f61"
MS_NET_ID = "b82f05d6c41e4a9d9f3a7e2c18d6045b"
YAHOO_ID = "1795571218.402716"
RX_ID = "rx20261124a7f3c91e"

POLICY_EXAMPLE_COM = dict(domain="example.com", adkim="r", aspf="r", p="none", sp="none")
POLICY_EXAMPLE_NET = dict(domain="example.net", adkim="s", aspf="s", p="none", sp="none")

REPORTS = [
    dict(key="google", org_name="google.com", email="noreply-dmarc-support@google.com",
         extra="https://support.google.com/a/answer/2466580", report_id=GOOGLE_ID,
         policy=POLICY_EXAMPLE_COM, records=[
             A("54.240.8.70", 412),
             A("54.240.9.183", 187),
             B("54.240.7.12", 96),
             C("69.169.224.5", 1320),
             C("69.169.227.249", 845),
             D("23.251.226.12", 58, "none"),
             G("209.85.220.41", 233),
             G("209.85.220.69", 118),
             G_default("209.85.219.174", 14),
             S("149.72.123.24", 640),
             H("198.51.100.23", 9, "mx.cheap-deals.test"),
             H("2001:db8:4b1::25", 3, "example.com"),
             R("54.240.90.17", 57),
             W("209.85.220.101", 23),
         ]),
    dict(key="outlook", org_name="Outlook.com", email="dmarcreport@microsoft.com",
         report_id=MS_ID, policy=POLICY_EXAMPLE_COM, records=[
             A("54.240.8.70", 301, env_to="outlook.com"),
             A("54.240.8.70", 77, env_to="hotmail.com"),
             B("54.240.6.238", 64, env_to="outlook.com"),
             B("54.240.7.12", 22, env_to="hotmail.com"),
             C("69.169.224.5", 903, env_to="outlook.com"),
             C("69.169.227.249", 148, env_to="hotmail.com"),
             D("54.240.94.118", 41, "softfail", env_to="outlook.com"),
             E("54.240.27.22", 131, env_to="outlook.com"),
             E("54.240.27.50", 19, env_to="live.com"),
             G("209.85.220.41", 88, env_to="outlook.com"),
             S("149.72.154.231", 212, env_to="hotmail.com"),
             H("203.0.113.77", 17, "srv42.hostingbox.test", env_to="outlook.com"),
             H("192.0.2.45", 5, "example.com", env_to="hotmail.com"),
             R("54.240.90.17", 31, env_to="outlook.com"),
         ]),
    dict(key="yahoo", org_name="Yahoo", email="dmarchelp@yahooinc.com",
         report_id=YAHOO_ID, policy=POLICY_EXAMPLE_COM, records=[
             A("54.240.9.183", 150),
             B("54.240.7.12", 40),
             C("69.169.227.249", 511),
             E("54.240.27.50", 72),
             G("209.85.220.69", 45),
             S("149.72.123.24", 97),
             H("192.0.2.45", 31, "bulk.mailer-x.test"),
             W("209.85.220.101", 8),
         ]),
    dict(key="rfc9990", org_name="Receiver Example Mail", email="noreply-dmarc@mail.receiver.example",
         extra="https://postmaster.receiver.example/dmarc", report_id=RX_ID,
         generator="receiver.example dmarc-reporter 3.4.1",
         policy=POLICY_EXAMPLE_COM, records=[
             A("54.240.8.70", 66),
             C("69.169.224.5", 270),
             D("23.251.226.12", 19, "none"),
             D("54.240.94.118", 7, "none"),
             E("54.240.27.22", 28, order9990=True),
             H("203.0.113.77", 12, "srv42.hostingbox.test", disp="quarantine",
               reasons=[("local_policy", "source IP listed on the receiver's local blocklist")]),
             H("2001:db8:4b1::25", 4, "example.com"),
         ]),
    dict(key="outlook-net", org_name="Outlook.com", email="dmarcreport@microsoft.com",
         report_id=MS_NET_ID, policy=POLICY_EXAMPLE_NET, records=[
             F("54.240.8.83", 214, env_to="outlook.com"),
             F("54.240.8.84", 39, env_to="hotmail.com"),
             H("198.51.100.140", 6, "example.net", header_from="example.net", env_to="outlook.com"),
         ]),
]


def sanity_check_data():
    for rep in REPORTS:
        for r in rep["records"]:
            ip = ipaddress.ip_address(r.ip)
            if r.scen in "ABCDEFR":
                assert any(ip in n for n in SES_RANGES), (r.scen, r.ip)
            elif r.scen in "GW":
                assert ip in GOOGLE_RANGE, r.ip
            elif r.scen == "S":
                assert ip in SENDGRID_RANGE, r.ip
            else:
                assert any(ip in n for n in DOC_RANGES), r.ip
            assert r.header_from == rep["policy"]["domain"], (rep["key"], r.ip)
            assert r.count > 0


# --------------------------------------------------------------------------------------
# XML writers, one per reporter style
# --------------------------------------------------------------------------------------
def _p(lines, depth, text, indent="  "):
    lines.append(indent * depth + text)


def _metadata(L, rep, extra=False, date="%d"):
    """<report_metadata>; extra: with <extra_contact_info>; date: how <begin>/<end> print."""
    _p(L, 1, "<report_metadata>")
    _p(L, 2, "<org_name>%s</org_name>" % rep["org_name"])
    _p(L, 2, "<email>%s</email>" % rep["email"])
    if extra:
        _p(L, 2, "<extra_contact_info>%s</extra_contact_info>" % rep["extra"])
    _p(L, 2, "<report_id>%s</report_id>" % rep["report_id"])
    _p(L, 2, "<date_range>")
    _p(L, 3, ("<begin>" + date + "</begin>") % BEGIN)
    _p(L, 3, ("<end>" + date + "</end>") % END)
    _p(L, 2, "</date_range>")
    _p(L, 1, "</report_metadata>")


def _policy(L, pol, keys, tail):
    """<policy_published>: the keys from pol, <pct>100</pct>, then the tail lines."""
    _p(L, 1, "<policy_published>")
    for k in keys:
        _p(L, 2, "<%s>%s</%s>" % (k, pol[k], k))
    _p(L, 2, "<pct>100</pct>")
    for t in tail:
        _p(L, 2, t)
    _p(L, 1, "</policy_published>")


def _records(L, records, ids, dkim_order, spf_scope=False):
    """The <record>s: ids, the <identifiers> written (attribute, tag) in order; dkim_order,
    the <dkim> children's order; spf_scope: with <scope>mfrom</scope>."""
    for r in records:
        _p(L, 1, "<record>")
        _p(L, 2, "<row>")
        _p(L, 3, "<source_ip>%s</source_ip>" % r.ip)
        _p(L, 3, "<count>%d</count>" % r.count)
        _p(L, 3, "<policy_evaluated>")
        _p(L, 4, "<disposition>%s</disposition>" % r.disp)
        _p(L, 4, "<dkim>%s</dkim>" % r.pdkim)
        _p(L, 4, "<spf>%s</spf>" % r.pspf)
        _p(L, 3, "</policy_evaluated>")
        _p(L, 2, "</row>")
        _p(L, 2, "<identifiers>")
        for attr, tag in ids:
            _p(L, 3, "<%s>%s</%s>" % (tag, getattr(r, attr), tag))
        _p(L, 2, "</identifiers>")
        _p(L, 2, "<auth_results>")
        for d, s, res in r.dkim:
            v = {"domain": d, "selector": s, "result": res}
            _p(L, 3, "<dkim>")
            for k in dkim_order:
                _p(L, 4, "<%s>%s</%s>" % (k, v[k], k))
            _p(L, 3, "</dkim>")
        if r.spf:
            _p(L, 3, "<spf>")
            _p(L, 4, "<domain>%s</domain>" % r.spf[0])
            if spf_scope:
                _p(L, 4, "<scope>mfrom</scope>")
            _p(L, 4, "<result>%s</result>" % r.spf[1])
            _p(L, 3, "</spf>")
        _p(L, 2, "</auth_results>")
        _p(L, 1, "</record>")
    L.append("</feedback>")


HEADER_FROM = (("header_from", "header_from"),)


def xml_google(rep):
    L = ['<?xml version="1.0" encoding="UTF-8" ?>', "<feedback>"]
    _metadata(L, rep, extra=True)
    pol = rep["policy"]
    _policy(L, pol, ("domain", "adkim", "aspf", "p", "sp"), ["<np>%s</np>" % pol["sp"]])
    _records(L, rep["records"], HEADER_FROM, ("domain", "result", "selector"))
    return ("\n".join(L) + "\n").encode("utf-8")


def xml_outlook(rep):
    L = ['<?xml version="1.0"?>',
         '<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    _p(L, 1, "<version>1.0</version>")
    _metadata(L, rep)
    _policy(L, rep["policy"], ("domain", "adkim", "aspf", "p", "sp"), ["<fo>0</fo>"])
    _records(L, rep["records"],
             (("env_to", "envelope_to"), ("env", "envelope_from"), ("header_from", "header_from")),
             ("domain", "selector", "result"), spf_scope=True)
    return ("\n".join(L) + "\n").encode("utf-8")


def xml_yahoo(rep):
    # Yahoo quirks: a TAB after every line (including the last, which has no newline) and a
    # trailing space inside <begin>/<end>.
    L = ['<?xml version="1.0"?>', "<feedback>"]
    _metadata(L, rep, date="%d ")
    _policy(L, rep["policy"], ("domain", "adkim", "aspf", "p"), [])
    _records(L, rep["records"], HEADER_FROM, ("domain", "selector", "result"))
    return "\t\n".join(L).encode("utf-8") + b"\t"


def xml_rfc9990(rep):
    ind = "   "
    L = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">']
    p = lambda d, t: _p(L, d, t, ind)
    p(1, "<version>1.0</version>")
    p(1, "<report_metadata>")
    p(2, "<org_name>%s</org_name>" % rep["org_name"])
    p(2, "<email>%s</email>" % rep["email"])
    p(2, "<extra_contact_info>%s</extra_contact_info>" % rep["extra"])
    p(2, "<report_id>%s</report_id>" % rep["report_id"])
    p(2, "<date_range>")
    p(3, "<begin>%d</begin>" % BEGIN)
    p(3, "<end>%d</end>" % END)
    p(2, "</date_range>")
    p(2, "<generator>%s</generator>" % rep["generator"])
    p(1, "</report_metadata>")
    pol = rep["policy"]
    p(1, "<policy_published>")
    p(2, "<domain>%s</domain>" % pol["domain"])
    p(2, "<p>%s</p>" % pol["p"])
    p(2, "<sp>%s</sp>" % pol["sp"])
    p(2, "<np>%s</np>" % pol["sp"])
    p(2, "<adkim>%s</adkim>" % pol["adkim"])
    p(2, "<aspf>%s</aspf>" % pol["aspf"])
    p(2, "<discovery_method>treewalk</discovery_method>")
    p(2, "<testing>n</testing>")
    p(1, "</policy_published>")
    for r in rep["records"]:
        p(1, "<record>")
        p(2, "<row>")
        p(3, "<source_ip>%s</source_ip>" % r.ip)
        p(3, "<count>%d</count>" % r.count)
        p(3, "<policy_evaluated>")
        p(4, "<disposition>%s</disposition>" % r.disp)
        p(4, "<dkim>%s</dkim>" % r.pdkim)
        p(4, "<spf>%s</spf>" % r.pspf)
        for typ, comment in r.reasons:
            p(4, "<reason>")
            p(5, "<type>%s</type>" % typ)
            p(5, "<comment>%s</comment>" % comment)
            p(4, "</reason>")
        p(3, "</policy_evaluated>")
        p(2, "</row>")
        p(2, "<identifiers>")
        p(3, "<header_from>%s</header_from>" % r.header_from)
        p(3, "<envelope_from>%s</envelope_from>" % r.env)
        p(2, "</identifiers>")
        p(2, "<auth_results>")
        for d, s, res in r.dkim:
            p(3, "<dkim>")
            p(4, "<domain>%s</domain>" % d)
            p(4, "<selector>%s</selector>" % s)
            p(4, "<result>%s</result>" % res)
            p(3, "</dkim>")
        if r.spf:
            p(3, "<spf>")
            p(4, "<domain>%s</domain>" % r.spf[0])
            p(4, "<scope>mfrom</scope>")
            p(4, "<result>%s</result>" % r.spf[1])
            p(3, "</spf>")
        p(2, "</auth_results>")
        p(1, "</record>")
    L.append("</feedback>")
    return ("\n".join(L) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------
def make_zip(member, data, when):
    zi = zipfile.ZipInfo(member, date_time=when)
    zi.compress_type = zipfile.ZIP_DEFLATED
    zi.create_system = 3                  # unix
    zi.external_attr = 0o100644 << 16     # -rw-r--r--
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zi, data, compresslevel=9)
    return buf.getvalue()


def make_gzip(member, data, mtime):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=member, mode="wb", fileobj=buf, mtime=mtime, compresslevel=9) as g:
        g.write(data)
    return buf.getvalue()


def b64_lines(data):
    s = base64.b64encode(data).decode("ascii")
    return [s[i:i + 76] for i in range(0, len(s), 76)]


def crlf(lines):
    for ln in lines:
        assert "\r" not in ln and "\n" not in ln, ln
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def fname(receiver, domain, ext, uid=None):
    return "%s!%s!%d!%d%s.%s" % (receiver, domain, BEGIN, END, "" if uid is None else "!" + uid, ext)


def utc_tuple(ts):
    import time
    return time.gmtime(ts)[:6]


# --------------------------------------------------------------------------------------
# Build every file
# --------------------------------------------------------------------------------------
def build():
    sanity_check_data()
    rep = {r["key"]: r for r in REPORTS}
    files = {}

    # 1. Google: single-part message, whole body = base64 application/zip -----------------
    g = rep["google"]
    xml = xml_google(g)
    zname = fname("google.com", "example.com", "zip")
    zdata = make_zip(fname("google.com", "example.com", "xml"), xml, utc_tuple(END - 8 * 3600))
    sent = END + 3 * 3600 + 17 * 60 + 42          # handed to our MX 03:17:42 UTC next day
    hdr = [
        "Return-Path: <noreply-dmarc-support@google.com>",
        "Delivered-To: dmarc-reports@example.com",
        "Received: from mail-yb1-f201.google.com (mail-yb1-f201.google.com [209.85.219.201])",
        "\tby mx1.example.com (Postfix) with ESMTPS id 4dKq7M2b3Qz9sTn",
        "\tfor <dmarc-reports@example.com>; Wed, 25 Nov 2026 03:17:43 +0000 (UTC)",
        "Received: by mail-yb1-f201.google.com with SMTP id 3f1490d57ef6-e9d5c1a8b2fso4412877276.3",
        "        for <dmarc-reports@example.com>; Tue, 24 Nov 2026 19:17:42 -0800 (PST)",
        "Authentication-Results: mx1.example.com;",
        "\tdkim=pass header.d=google.com;",
        "\tspf=pass (mx1.example.com: domain of noreply-dmarc-support@google.com",
        "\t designates 209.85.219.201 as permitted sender)",
        "\t smtp.mailfrom=noreply-dmarc-support@google.com;",
        "\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=google.com",
        "MIME-Version: 1.0",
        "Date: Tue, 24 Nov 2026 15:59:59 -0800",
        "Message-ID: <%s@google.com>" % g["report_id"],
        "Subject: Report domain: example.com Submitter: google.com Report-ID: %s" % g["report_id"],
        "From: noreply-dmarc-support@google.com",
        "To: dmarc-reports@example.com",
        "Content-Type: application/zip; ",
        '\tname="%s"' % zname,
        "Content-Disposition: attachment; ",
        '\tfilename="%s"' % zname,
        "Content-Transfer-Encoding: base64",
        "",
    ]
    assert sent > END
    files["google-zip.eml"] = crlf(hdr + b64_lines(zdata))

    # 2. Microsoft: multipart/mixed, text/plain + application/gzip ------------------------
    m = rep["outlook"]
    xml = xml_outlook(m)
    gzname = fname("protection.outlook.com", "example.com", "xml.gz")
    gzdata = make_gzip(fname("protection.outlook.com", "example.com", "xml"), xml, END + 6 * 3600 + 41 * 60)
    subject = "Report Domain: example.com Submitter: protection.outlook.com Report-ID: %s" % m["report_id"]
    enc_subject = "=?utf-8?B?%s?=" % base64.b64encode(subject.encode()).decode()
    bnd = "_mpm_9d3e61b0c7a54f2e8b6d4a19f05c3e7apiotk5m200exchangecorpm_"
    body_text = [
        "This is a DMARC aggregate report from Microsoft Corporation. For the",
        "reporting period 2026-11-24 (UTC) it lists the messages that Outlook.com",
        "received claiming to be from example.com, grouped by source IP address.",
        "",
        "The report itself is in the attached gzip-compressed XML file.",
    ]
    lines = [
        "Return-Path: <dmarcreport@microsoft.com>",
        "Delivered-To: dmarc-reports@example.com",
        "Received: from NAM12-DM6-obe.outbound.protection.outlook.com "
        "(mail-dm6nam12on2101.outbound.protection.outlook.com [40.107.243.101])",
        "\tby mx1.example.com (Postfix) with ESMTPS id 4dKxB61mW7z9sVr",
        "\tfor <dmarc-reports@example.com>; Wed, 25 Nov 2026 06:41:22 +0000 (UTC)",
        "Message-ID: <%s@microsoft.com>" % m["report_id"],
        "MIME-Version: 1.0",
        'From: "DMARC Aggregate Report" <dmarcreport@microsoft.com>',
        "To: <dmarc-reports@example.com>",
        "Subject: " + enc_subject,
        "Content-Type: multipart/mixed;",
        '\tboundary="%s"' % bnd,
        "Date: Wed, 25 Nov 2026 06:41:19 +0000",
        "X-MS-PublicTrafficType: Email",
        "X-OriginatorOrg: dmarcrep.onmicrosoft.com",
        "",
        "This is a multi-part message in MIME format.",
        "",
        "--" + bnd,
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
        "",
    ] + body_text + [
        "",
        "--" + bnd,
        "Content-Type: application/gzip",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <7c2d9e41-5b8a-4f03-a6e1-0d94b3c8f2a5>",
        "Content-Description: " + gzname,
        'Content-Disposition: attachment; filename="%s";' % gzname,
        "",
    ] + b64_lines(gzdata) + [
        "",
        "--" + bnd + "--",
    ]
    files["outlook-gzip.eml"] = crlf(lines)

    # 3. Yahoo: multipart/mixed, text/plain + application/octet-stream (gzip inside) -------
    y = rep["yahoo"]
    xml = xml_yahoo(y)
    gzname = fname("yahoo.com", "example.com", "xml.gz")
    gzdata = make_gzip(fname("yahoo.com", "example.com", "xml"), xml, 1795571218)
    bnd = "----=_Part_2750193_1184620537.1795571218402"
    lines = [
        "Return-Path: <noreply@dmarc.yahoo.com>",
        "Delivered-To: dmarc-reports@example.com",
        "Received: from sonic313-19.consmr.mail.gq1.yahoo.com (sonic313-19.consmr.mail.gq1.yahoo.com "
        "[98.137.65.82])",
        "\tby mx1.example.com (Postfix) with ESMTPS id 4dKnJ03vTfz9sSd",
        "\tfor <dmarc-reports@example.com>; Wed, 25 Nov 2026 01:47:03 +0000 (UTC)",
        "Date: Wed, 25 Nov 2026 01:46:58 +0000",
        "From: noreply@dmarc.yahoo.com",
        "To: dmarc-reports@example.com",
        "Message-ID: <%s@dmarc.yahoo.com>" % y["report_id"],
        "Subject: Report Domain: example.com Submitter: yahoo.com Report-ID: <%s>" % y["report_id"],
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; ",
        '\tboundary="%s"' % bnd,
        "",
        "--" + bnd,
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: 7bit",
        "",
        "This is an aggregate report from Yahoo.",
        "Report Domain: example.com",
        "Submitter: yahoo.com",
        "Report-ID: <%s>" % y["report_id"],
        "",
        "--" + bnd,
        "Content-Type: application/octet-stream; ",
        '\tname="%s"' % gzname,
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; ",
        '\tfilename="%s"' % gzname,
        "",
    ] + b64_lines(gzdata) + [
        "--" + bnd + "--",
    ]
    files["yahoo-gzip.eml"] = crlf(lines)

    # 4. RFC 9990 receiver: plain .xml.gz file (filename with unique-id = report_id) -------
    x = rep["rfc9990"]
    xml = xml_rfc9990(x)
    files[fname("mail.receiver.example", "example.com", "xml.gz", x["report_id"])] = make_gzip(
        fname("mail.receiver.example", "example.com", "xml", x["report_id"]), xml, END + 2 * 3600 + 5 * 60)

    # 5. example.net (strict alignment) from Microsoft: plain .xml -------------------------
    n = rep["outlook-net"]
    files[fname("protection.outlook.com", "example.net", "xml")] = xml_outlook(n)

    return files


# --------------------------------------------------------------------------------------
# --check: independent re-parse of the files on disk
# --------------------------------------------------------------------------------------
def local(tag):
    return tag.rsplit("}", 1)[-1]


def kids(el, name):
    return [c for c in el if local(c.tag) == name]


def kid(el, name):
    k = kids(el, name)
    return k[0] if k else None


def txt(el, name, default=None):
    k = kid(el, name) if el is not None else None
    if k is None or k.text is None:
        return default
    return k.text.strip()


def parse_report(xml):
    root = ET.fromstring(xml)
    md = kid(root, "report_metadata")
    dr = kid(md, "date_range")
    pp = kid(root, "policy_published")
    out = dict(ns=root.tag[1:].split("}")[0] if root.tag.startswith("{") else "",
               org_name=txt(md, "org_name"), email=txt(md, "email"), report_id=txt(md, "report_id"),
               begin=int(txt(dr, "begin")), end=int(txt(dr, "end")),
               policy={local(c.tag): (c.text or "").strip() for c in pp}, records=[])
    for rec in kids(root, "record"):
        row = kid(rec, "row")
        pe = kid(row, "policy_evaluated")
        ids = kid(rec, "identifiers")
        ar = kid(rec, "auth_results")
        out["records"].append(dict(
            ip=txt(row, "source_ip"), count=int(txt(row, "count")),
            disp=txt(pe, "disposition"), pdkim=txt(pe, "dkim"), pspf=txt(pe, "spf"),
            reasons=[(txt(r, "type"), txt(r, "comment")) for r in kids(pe, "reason")],
            header_from=txt(ids, "header_from"), env=txt(ids, "envelope_from"),
            env_to=txt(ids, "envelope_to"),
            dkim=[(txt(d, "domain"), txt(d, "selector"), txt(d, "result")) for d in kids(ar, "dkim")],
            spf=[(txt(s, "domain"), txt(s, "result"), txt(s, "scope")) for s in kids(ar, "spf")]))
    return out


def unpack(data):
    """Return (container, member name, xml bytes) by magic bytes, like the ingester should."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            assert len(names) == 1, names
            return "zip", names[0], z.read(names[0])
    if data[:2] == b"\x1f\x8b":
        name = None
        if data[3] & 0x08:                                  # FNAME present
            end = data.index(b"\0", 10)
            name = data[10:end].decode("latin-1")
        return "gzip", name, gzip.decompress(data)
    return "xml", None, data


def load(path):
    raw = open(path, "rb").read()
    info = dict(file=os.path.basename(path))
    if path.endswith(".eml"):
        assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF in " + path
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        info["subject"] = str(msg["Subject"])
        info["mail_from"] = str(msg["From"])
        att = [p for p in msg.walk() if p.get_content_disposition() == "attachment"]
        assert len(att) == 1, path
        part = att[0]
        info["att_type"] = part.get_content_type()
        info["att_name"] = part.get_filename()
        for ln in raw.split(b"\r\n"):
            assert len(ln) <= 998, "line too long in " + path
        data = part.get_payload(decode=True)
    else:
        data = raw
    info["container"], info["member"], xml = unpack(data)
    info["report"] = parse_report(xml)
    return info


def org_domain(d):
    return ".".join(d.lower().rstrip(".").split(".")[-2:])   # enough for the example names


def classify(r):
    """Scenario letter from what a record shows (no knowledge of the generator's tags)."""
    dk_domains = [d for d, _, _ in r["dkim"]]
    spf_dom = r["spf"][0][0] if r["spf"] else r["env"]
    if "amazonses.com" in dk_domains:
        if all(res != "pass" for _, _, res in r["dkim"]):
            return "W"
        if r["header_from"] == "example.net":
            return "F"
        if spf_dom == "amazonses.com":
            return "A"
        if spf_dom == "eu-west-1.amazonses.com":
            return "B"
        if spf_dom == "us-west-2.amazonses.com":
            return "E"
        if spf_dom == "mail.example.com":
            return "C" if "example.com" in dk_domains else "R"
        if spf_dom == "bounce.example.com":
            return "D"
        return "?SES"
    if any(d.endswith(".gappssmtp.com") for d in dk_domains) or ("example.com", "google", "pass") in r["dkim"]:
        return "G"
    if spf_dom == "sendgrid.net":
        return "S"
    return "H"


def ses_region(r):
    """(region, evidence) of an SES record: MAIL FROM, then the amazonses.com selector, then the
    source /24 (reports carry no PTR)."""
    spf_dom = r["spf"][0][0] if r["spf"] else r["env"]
    if spf_dom == "amazonses.com":
        return "us-east-1", "mail-from"
    if spf_dom.endswith(".amazonses.com"):
        return spf_dom[:-len(".amazonses.com")], "mail-from"
    for d, s, _ in r["dkim"]:
        if d == "amazonses.com" and s in SES_SELECTOR_REGION:
            return SES_SELECTOR_REGION[s], "dkim-selector"
    net = ".".join(r["ip"].split(".")[:3])
    if net in SES_NET_REGION:
        return SES_NET_REGION[net], "ip"
    return "unknown", "none"


CAUSE_ORDER = ["default-mail-from", "no-easy-dkim", "dkim-fail", "mail-from-spf-fail",
               "strict-alignment", "region-gap", "dkim-records-changed", "byodkim-mismatch",
               "signed-before-ses"]


def findings(loaded):
    groups = {}
    for info in loaded:
        rep = info["report"]
        for r in rep["records"]:
            s = classify(r)
            g = groups.setdefault(s, dict(rows=[], reports=set(), policy=rep["policy"]))
            g["rows"].append(r)
            g["reports"].add(info["file"])
    res = {}
    for s, g in groups.items():
        rows = g["rows"]
        hf = sorted({r["header_from"] for r in rows})
        spf_doms = sorted({(r["spf"][0][0] if r["spf"] else r["env"]) for r in rows})
        pol = g["policy"]
        causes = set()
        ses = all(any(d == "amazonses.com" for d, _, _ in r["dkim"]) for r in rows)
        for r in rows:
            sd = r["spf"][0][0] if r["spf"] else r["env"]
            sres = r["spf"][0][1] if r["spf"] else None
            own = [x for x in r["dkim"] if org_domain(x[0]) == org_domain(r["header_from"])]
            if sd == "amazonses.com" or sd.endswith(".amazonses.com"):
                causes.add("default-mail-from")
            if ses and not own:
                causes.add("no-easy-dkim")
            if own and all(x[2] != "pass" for x in own):
                causes.add("dkim-fail")
                if any(re.fullmatch(r"[a-z2-7]{32}", x[1] or "") for x in own):
                    causes.add("dkim-records-changed")   # an Easy DKIM token that fails
            if (org_domain(sd) == org_domain(r["header_from"]) and not sd.endswith("amazonses.com")
                    and sres != "pass"):
                causes.add("mail-from-spf-fail")
            if (pol.get("aspf") == "s" and sres == "pass" and sd != r["header_from"]
                    and org_domain(sd) == org_domain(r["header_from"])):
                causes.add("strict-alignment")
        regions = {ses_region(r) for r in rows} if ses else set()
        region, evidence = regions.pop() if len(regions) == 1 else ("unknown", "none")
        res[s] = dict(rows=rows, hf=hf, spf_doms=spf_doms, reports=g["reports"], ses=ses,
                      causes=causes, region=region, evidence=evidence,
                      severity=("fail" if any(r["pspf"] != "pass" and r["pdkim"] != "pass" for r in rows)
                                else "warn") if causes else "-",
                      total=sum(r["count"] for r in rows),
                      spf_al=sum(r["count"] for r in rows if r["pspf"] == "pass"),
                      dkim_al=sum(r["count"] for r in rows if r["pdkim"] == "pass"),
                      dmarc_fail=all(r["pspf"] != "pass" and r["pdkim"] != "pass" for r in rows))
    # region-gap: a SES source with a known region fails DMARC while another SES source for the
    # same From domain, in another region, passes both SPF and DKIM alignment
    for s, f in res.items():
        if f["ses"] and f["region"] != "unknown" and f["dmarc_fail"]:
            if any(o["ses"] and o["hf"] == f["hf"] and o["region"] != f["region"]
                   and o["spf_al"] == o["dkim_al"] == o["total"]
                   for k, o in res.items() if k != s):
                f["causes"].add("region-gap")
    return res


def ip_list(rows):
    seen = []
    for r in rows:
        if r["ip"] not in seen:
            seen.append(r["ip"])
    return ", ".join(seen)


def check():
    expected = build()
    ok = True
    for name, data in sorted(expected.items()):
        path = os.path.join(OUT, name)
        if not os.path.exists(path):
            print("MISSING  %s" % name)
            ok = False
        elif open(path, "rb").read() != data:
            print("DIFFERS  %s (rerun without --check to regenerate)" % name)
            ok = False
    present = sorted(f for f in os.listdir(OUT) if f.endswith((".eml", ".xml", ".gz", ".zip")))
    extra = set(present) - set(expected)
    if extra:
        print("EXTRA files not made by this script: %s" % ", ".join(sorted(extra)))

    order = ["google-zip.eml", "outlook-gzip.eml", "yahoo-gzip.eml"]
    names = order + sorted(n for n in expected if n not in order)
    loaded = [load(os.path.join(OUT, n)) for n in names if os.path.exists(os.path.join(OUT, n))]

    # the generator's own scenario tags must match what the files say
    by_id = {r["report_id"]: r for r in REPORTS}
    for info in loaded:
        src = by_id[info["report"]["report_id"]]
        got = [classify(r) for r in info["report"]["records"]]
        want = [r.scen for r in src["records"]]
        if got != want:
            print("CLASSIFY MISMATCH %s: %s != %s" % (info["file"], got, want))
            ok = False
        for r in info["report"]["records"]:
            if r["ip"] is None or ipaddress.ip_address(r["ip"]) is None:
                ok = False

    out = []
    out.append("### Per-report totals")
    out.append("")
    out.append("| file | container | report_id | org_name | domain | begin | end | records | messages |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    grand = 0
    for info in loaded:
        rep = info["report"]
        n = sum(r["count"] for r in rep["records"])
        grand += n
        cont = info["container"] if not info["file"].endswith(".eml") else \
            "eml (%s) > %s" % (info["att_type"], info["container"])
        out.append("| `%s` | %s | `%s` | %s | %s | %d | %d | %d | %d |" % (
            info["file"], cont, rep["report_id"], rep["org_name"], rep["policy"]["domain"],
            rep["begin"], rep["end"], len(rep["records"]), n))
    out.append("")
    out.append("All reports together: %d records, %d messages." % (
        sum(len(i["report"]["records"]) for i in loaded), grand))
    out.append("")

    res = findings(loaded)
    out.append("### Expected findings (SES scenarios)")
    out.append("")
    out.append("| scenario | region | source IP(s) | header_from | messages | SPF-aligned | DKIM-aligned "
               "| causes | seen in reports | severity | region evidence |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in "ABCDEFR":
        f = res.get(s)
        if not f:
            out.append("| %s | MISSING |" % s)
            ok = False
            continue
        causes = ";".join(c for c in CAUSE_ORDER if c in f["causes"]) or "(none)"
        out.append("| %s | %s | %s | %s | %d | %d | %d | %s | %d | %s | %s |" % (
            s, f["region"], ip_list(f["rows"]), ",".join(f["hf"]), f["total"], f["spf_al"],
            f["dkim_al"], causes, len(f["reports"]), f["severity"], f["evidence"]))
    out.append("")
    out.append("### Other sources (not SES)")
    out.append("")
    out.append("| scenario | source IP(s) | header_from | messages | SPF-aligned | DKIM-aligned | seen in reports |")
    out.append("|---|---|---|---|---|---|---|")
    for s in "GSHW":
        f = res[s]
        out.append("| %s | %s | %s | %d | %d | %d | %d |" % (
            s, ip_list(f["rows"]), ",".join(f["hf"]), f["total"], f["spf_al"], f["dkim_al"],
            len(f["reports"])))
    out.append("")
    out.append("### Messages per scenario and report")
    out.append("")
    cols = [i["file"] for i in loaded]
    short = {"google-zip.eml": "google", "outlook-gzip.eml": "outlook", "yahoo-gzip.eml": "yahoo"}
    hdr = ["scenario"] + [short.get(c, "rfc9990" if c.startswith("mail.receiver") else "outlook example.net")
                          for c in cols] + ["total"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for s in "ABCDEFRGSHW":
        cells = []
        tot = 0
        for info in loaded:
            n = sum(r["count"] for r in info["report"]["records"] if classify(r) == s)
            tot += n
            cells.append(str(n) if n else "-")
        out.append("| %s | %s | %d |" % (s, " | ".join(cells), tot))
    text = "\n".join(out)
    print(text)

    readme = os.path.join(HERE, "README.md")
    if os.path.exists(readme):
        body = open(readme, encoding="utf-8").read()
        missing = [ln for ln in out if ln.startswith("|") and ln not in body]
        if missing:
            print("\nREADME.md is out of date; these table lines are not in it:")
            for ln in missing:
                print("  " + ln)
            ok = False
    print("\ncheck: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if "--check" in sys.argv[1:]:
        return check()
    files = build()
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print("wrote %-70s %7d bytes" % (name, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
