"""The zones the DNS tests serve from Knot on loopback (knotfixture.py).

Addresses (documentation and SES ranges; nothing is ever asked of the
Internet: every test points the resolver at 127.0.0.1):

  198.51.100.10  PTR mx1.example.com, which has A 198.51.100.10: confirmed
  198.51.100.11  PTR spoof.example.com, whose A is 192.0.2.99: unconfirmed
  198.51.100.12  no PTR: NXDOMAIN
  198.51.100.13  PTR "bad name.example.com" (a space): malformed, dropped
  198.51.100.14  PTR mx2.example.net, confirmed (another organisation)
  198.51.100.15  PTR relay.mail.example.com, confirmed (same org as .10)
  54.240.27.22   PTR a27-22.smtp-out.us-west-2.amazonses.com, confirmed
  54.240.8.70    PTR a8-70.smtp-out.amazonses.com (us-east-1), confirmed
  2001:db8::10   PTR v6.example.com, AAAA 2001:db8::10: confirmed

Domains for check-dns (SES in us-west-2, selector "sestoken1..."):

  good.example     one DMARC record, SPF, MAIL FROM mail.good.example with
                   one MX to feedback-smtp.us-west-2.amazonses.com and SPF,
                   DKIM CNAME to the token's key at dkim.amazonses.com
  twomx.example    MAIL FROM with two MX records
  parent.example   SPF include:amazonses.com on the parent, none on the
                   MAIL FROM domain ("SPF on the wrong domain")
  nodkim.example   the DKIM CNAME is missing
  twodmarc.example two DMARC records
  spf11.example    SPF that needs 11 lookups (limit 10)
  ext.example      rua to reports.example, which does not authorise it
  extok.example    rua to reports.example, which authorises it
"""
from knotfixture import zone_text

SES_SELECTOR = "sestoken1abcdefghijklmnopqrstuv"   # a customer Easy DKIM token
AMAZON_SELECTOR = "7v7vs6w47njt4pimodk5mmttbegzsi6n"  # us-west-2's amazonses.com
KEY = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1TaNgLlSyQMNWVLNLvyY"

NAMES = {
    "198.51.100.10": ("mx1.example.com", True),
    "198.51.100.11": ("spoof.example.com", False),
    "198.51.100.12": (None, False),
    "198.51.100.13": (None, False),
    "198.51.100.14": ("mx2.example.net", True),
    "198.51.100.15": ("relay.mail.example.com", True),
    "54.240.27.22": ("a27-22.smtp-out.us-west-2.amazonses.com", True),
    "54.240.8.70": ("a8-70.smtp-out.amazonses.com", True),
    "2001:db8::10": ("v6.example.com", True),
}

V6_PTR = ".".join(reversed("000000000000000000000010"))  # under 8.b.d.0.1.0.0.2.ip6.arpa


def ses_domain(name, mail_from_records, dkim=True, spf_parent=False, dmarc=None):
    dmarc = dmarc or ("v=DMARC1; p=quarantine; rua=mailto:dmarc@%s" % name,)
    recs = ['_dmarc TXT "%s"' % d for d in dmarc]
    recs.append('@ TXT "v=spf1 %s-all"' % ("include:amazonses.com " if spf_parent else "mx "))
    recs.append("@ MX 10 mx.%s." % name)
    recs.append("mx A 192.0.2.25")
    recs += mail_from_records
    if dkim:
        recs.append("%s._domainkey CNAME %s.dkim.amazonses.com." % (SES_SELECTOR, SES_SELECTOR))
    return zone_text(name, recs)


GOOD_MAIL_FROM = ["mail MX 10 feedback-smtp.us-west-2.amazonses.com.",
                  'mail TXT "v=spf1 include:amazonses.com ~all"']


def zones(extra_reverse=None):
    """The zones; extra_reverse: {zone: [records]} for the benchmark."""
    z = {
        "100.51.198.in-addr.arpa": zone_text("100.51.198.in-addr.arpa", [
            "10 PTR mx1.example.com.",
            "11 PTR spoof.example.com.",
            "13 PTR bad\\032name.example.com.",
            "14 PTR mx2.example.net.",
            "15 PTR relay.mail.example.com.",
        ]),
        "27.240.54.in-addr.arpa": zone_text("27.240.54.in-addr.arpa", [
            "22 PTR a27-22.smtp-out.us-west-2.amazonses.com."]),
        "8.240.54.in-addr.arpa": zone_text("8.240.54.in-addr.arpa", [
            "70 PTR a8-70.smtp-out.amazonses.com."]),
        "8.b.d.0.1.0.0.2.ip6.arpa": zone_text("8.b.d.0.1.0.0.2.ip6.arpa", [
            "%s PTR v6.example.com." % V6_PTR]),
        "example.com": zone_text("example.com", [
            "mx1 A 198.51.100.10", "spoof A 192.0.2.99", "relay.mail A 198.51.100.15",
            "v6 AAAA 2001:db8::10"]),
        "example.net": zone_text("example.net", ["mx2 A 198.51.100.14"]),
        "amazonses.com": zone_text("amazonses.com", [
            '@ TXT "v=spf1 ip4:54.240.0.0/18 ip4:69.169.224.0/20 -all"',
            "a27-22.smtp-out.us-west-2 A 54.240.27.22",
            "a8-70.smtp-out A 54.240.8.70",
            "feedback-smtp.us-west-2 A 192.0.2.53",
            '%s.dkim TXT "%s"' % (SES_SELECTOR, KEY),
        ]),
        "good.example": ses_domain("good.example", GOOD_MAIL_FROM),
        "twomx.example": ses_domain("twomx.example", GOOD_MAIL_FROM + [
            "mail MX 20 feedback-smtp.us-east-1.amazonses.com."]),
        "parent.example": ses_domain("parent.example", [
            "mail MX 10 feedback-smtp.us-west-2.amazonses.com."], spf_parent=True),
        "nodkim.example": ses_domain("nodkim.example", GOOD_MAIL_FROM, dkim=False),
        "twodmarc.example": ses_domain("twodmarc.example", GOOD_MAIL_FROM,
                                       dmarc=("v=DMARC1; p=none", "v=DMARC1; p=reject")),
        "spf11.example": zone_text("spf11.example", [
            '_dmarc TXT "v=DMARC1; p=none; rua=mailto:dmarc@spf11.example"',
            '@ TXT "v=spf1 %s -all"' % " ".join("include:i%d.spf11.example" % i for i in range(1, 12)),
        ] + ['i%d TXT "v=spf1 ip4:192.0.2.%d -all"' % (i, i) for i in range(1, 12)]),
        "ext.example": zone_text("ext.example", [
            '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.example"',
            '@ TXT "v=spf1 -all"']),
        "extok.example": zone_text("extok.example", [
            '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.example"',
            '@ TXT "v=spf1 -all"']),
        "reports.example": zone_text("reports.example", [
            'extok.example._report._dmarc TXT "v=DMARC1"']),
    }
    for name, recs in (extra_reverse or {}).items():
        z[name] = zone_text(name, recs)
    return z
