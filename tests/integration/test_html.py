"""dmarc-report html: the page opened in a real headless Chromium.

The numbers the browser's DOM carries are compared with what the text
commands print for the same database; the screenshot must be a real,
non-blank picture of the size asked for; the browser must make no network
request (its own net log is read); the HTML must parse without errors;
hostile strings must stay text."""
import csv
import html.parser
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import urllib.parse
import zlib

from dmarctest import BUILD, EX_OK, EXAMPLES, Case, record, report_xml, utc

CHROMIUM = shutil.which("chromium")
UNSHARE = ["unshare", "--net"] if os.geteuid() == 0 and shutil.which("unshare") else []
# Chromium's own service hosts (updates, time, accounts): it asks them
# whatever the page holds, even with the flags below; every other URL in
# the net log would be the page's doing.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")
DAY0 = utc(2026, 10, 1)

# The flags a headless Chromium needs here: no sandbox as root, no GPU,
# and none of its own background connections (updates, sync, safe
# browsing), so that what the net log shows is what the page asked for.
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND"]


def ses_ok(ip="69.169.224.5", count=10):
    return record(ip=ip, count=count, envelope_from="mail.example.com",
                  dkim_results=(("example.com", "tok1", "pass"), ("amazonses.com", "sesselector", "pass")),
                  spf_results=(("mail.example.com", "mfrom", "pass"),))


def ses_default(ip="54.240.7.12", count=10):
    return record(ip=ip, count=count, dkim="fail", spf="fail", envelope_from="eu-west-1.amazonses.com",
                  dkim_results=(("amazonses.com", "sesselector", "pass"),),
                  spf_results=(("eu-west-1.amazonses.com", "mfrom", "pass"),))


def google(count=5):
    return record(ip="209.85.220.41", count=count, envelope_from="example.com",
                  dkim_results=(("example.com", "google", "pass"),),
                  spf_results=(("example.com", "mfrom", "pass"),))


def spoof(i, count=1):
    return record(ip="198.51.100.%d" % i, count=count, dkim="fail", spf="fail",
                  dkim_results=(), spf_results=(("spoof.test", "mfrom", "fail"),))


class Chromium:
    """Runs the real browser on a file with a fresh profile."""

    def __init__(self, tmp):
        self.profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp)

    def run(self, *args, timeout=120):
        # networking off: a network namespace of its own with no interface
        # up, so nothing the browser tries can leave (or reach loopback)
        return subprocess.run(UNSHARE + [CHROMIUM] + CHROME_FLAGS + ["--user-data-dir=" + self.profile]
                              + list(args), capture_output=True, timeout=timeout)


class DomReader(html.parser.HTMLParser):
    """Collects the page's data-* rows and every tag and attribute seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.domain = None
        self.sources = {}   # domain -> {(source, region): (messages, pass)}
        self.totals = {}    # domain -> (messages, pass)
        self.verdicts = {}  # domain -> ready | not-ready | review
        self.ses = {}       # domain -> [(severity, region, ip, messages)]
        self.tags = set()
        self.attrs = set()
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attrs.update(k for k, _ in attrs)
        if tag == "section" and "data-domain" in a:
            self.domain = a["data-domain"]
            self.sources[self.domain] = {}
        if tag == "tr" and "data-source" in a and self.domain is not None:
            self.sources[self.domain][(a["data-source"], a["data-region"])] = (
                int(a["data-messages"]), int(a["data-dmarc-pass"]))
        if tag == "tr" and "data-severity" in a and self.domain is not None:
            self.ses.setdefault(self.domain, []).append(
                (a["data-severity"], a["data-region"], a["data-ip"], int(a["data-messages"])))
        if tag == "div" and "data-verdict" in a:
            self.verdicts[self.domain] = a["data-verdict"]
        if tag == "p" and a.get("class") == "totals":
            self.totals[self.domain] = (int(a["data-messages"]), int(a["data-dmarc-pass"]))

    def handle_data(self, data):
        self.text.append(data)


def png_size_and_colours(path):
    """(width, height, distinct byte values of the decoded image data)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


class PageCase(Case):
    """Writes the page with dmarc-report html and reads it back as
    Chromium built it (reader: the DomReader that collects what the
    tests look at)."""
    reader = DomReader

    def setUp(self):
        super().setUp()
        if CHROMIUM is None:
            self.skipTest("chromium is not installed (scripts/install-deps --test installs it)")
        self.browser = Chromium(self.tmp)

    def page(self, *args):
        out = self.path("page.html")
        self.assertExit(self.report("html", "-o", out, *args), EX_OK)
        return out

    def assertValidHtml(self, page):
        """tidy (0 clean, 1 warnings, 2 errors) and html5lib's strict
        parser both accept the page."""
        proc = subprocess.run(["tidy", "-errors", "-q", page], capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-3000:])
        check = ("import html5lib, sys\n"
                 "p = html5lib.HTMLParser(strict=True)\n"
                 "p.parse(open(sys.argv[1], 'rb').read())\n")
        proc = subprocess.run(["/usr/bin/python3", "-c", check, page], capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode()[-3000:])

    def dom(self, page):
        proc = self.browser.run("--dump-dom", "file://" + page)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        r = self.reader()
        r.feed(proc.stdout.decode())
        return r


class Html(PageCase):

    def history(self, days=40, domains=("example.com", "example.net"), org="Receiver A"):
        """days of daily reports per domain: a healthy SES source, SES with
        the default MAIL FROM that starts failing half-way, Google, and a
        growing number of spoofers."""
        n = 0
        for dom in domains:
            for d in range(days):
                recs = [ses_ok(count=100 + d), google(count=20)]
                if d >= days // 2:
                    recs.append(ses_default(count=30 + d))
                recs += [spoof(i) for i in range(1 + d % 7)]
                begin = DAY0 + d * 86400
                self.write("in/%s-%d.xml" % (dom, d), report_xml(
                    org=org, report_id="%s-%d" % (dom, d), domain=dom, begin=begin,
                    end=begin + 86399, records=recs))
                n += 1
        self.assertExit(self.ingest(self.path("in")), EX_OK)
        return n

    def test_numbers_agree_with_sources(self):
        self.history()
        r = self.dom(self.page())
        self.assertEqual(set(r.sources), {"example.com", "example.net"})
        for dom in ("example.com", "example.net"):
            proc = self.report("sources", "--domain", dom, "--format", "csv")
            self.assertExit(proc, EX_OK)
            rows = list(csv.DictReader(io.StringIO(proc.stdout.decode(), newline="")))
            want = {(x["source"], x["region"]): (int(x["messages"]), int(x["dmarc_pass"])) for x in rows}
            shown = r.sources[dom]
            # every source the page lists carries the text command's numbers
            for key, value in shown.items():
                self.assertEqual(value, want[key], key)
            # the biggest ones are all there, and the totals add up
            for key in sorted(want, key=lambda k: -want[k][0])[:10]:
                self.assertIn(key, shown)
            self.assertEqual(r.totals[dom], (sum(v[0] for v in want.values()),
                                             sum(v[1] for v in want.values())))
        # the verdict at the top of each domain is policy's
        proc = self.report("policy", "--format", "csv")
        verdicts = {x["domain"]: x["verdict"] for x in csv.DictReader(io.StringIO(proc.stdout.decode()))}
        self.assertEqual(r.verdicts, verdicts)
        self.assertEqual(set(verdicts.values()), {"not-ready"})
        # the SES findings of each domain are ses's rows for it
        for dom in ("example.com", "example.net"):
            proc = self.report("ses", "--domain", dom, "--format", "csv")
            rows = list(csv.DictReader(io.StringIO(proc.stdout.decode(), newline="")))
            want = sorted((x["severity"], x["region"], x["source_ip"], int(x["messages"])) for x in rows)
            self.assertTrue(want)
            self.assertEqual(sorted(r.ses[dom]), want)

    def test_chart_tables_add_up_to_the_totals(self):
        self.history(days=12, domains=("example.com",))
        with open(self.page(), encoding="utf-8") as f:
            text = f.read()
        # the DMARC result chart's numbers: one row a day, pass and fail
        part = text[text.index('id="d1-res-t"'):]
        part = part[part.index("<tbody>"):part.index("</tbody>")]
        rows = [[c.split(">")[-1] for c in row.split("</td>")[:-1]] for row in part.split("</tr>")[:-1]]
        self.assertEqual(len(rows), 12)
        total_pass = sum(int(x[1]) for x in rows)
        total_fail = sum(int(x[2]) for x in rows)
        src = list(csv.DictReader(io.StringIO(self.report("sources", "--format", "csv").stdout.decode())))
        self.assertEqual(total_pass, sum(int(x["dmarc_pass"]) for x in src))
        self.assertEqual(total_pass + total_fail, sum(int(x["messages"]) for x in src))
        # day 7 (index 6) had the SES default MAIL FROM failing: 30 + 6 msgs
        self.assertEqual(int(rows[6][2]), 36 + (1 + 6 % 7))

    def test_screenshot_is_a_real_picture(self):
        self.history(days=20)
        png = self.path("shot.png")
        proc = self.browser.run("--window-size=1200,1600", "--screenshot=" + png, "file://" + self.page())
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        width, height, colours = png_size_and_colours(png)
        self.assertEqual((width, height), (1200, 1600))
        # a blank page decodes to a handful of byte values; charts, text
        # and the palette give well over a hundred
        self.assertGreater(colours, 100)

    def pdf_pages(self, page):
        """Prints the page to PDF in the browser: its page sizes and count."""
        pdf = page + ".pdf"
        proc = self.browser.run("--no-pdf-header-footer", "--print-to-pdf=" + pdf, "file://" + page)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        with open(pdf, "rb") as f:
            data = f.read()
        boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
        return boxes, len(re.findall(rb"/Type\s*/Page[^s]", data))

    def test_print_is_a4_with_each_domain_from_a_new_page(self):
        doms = ["d%02d.example" % i for i in range(8)]
        self.history(days=2, domains=doms)
        boxes, pages = self.pdf_pages(self.page())
        self.assertTrue(boxes)
        for w, h in boxes:   # A4 in points: 210 x 297 mm
            self.assertAlmostEqual(float(w), 595.3, delta=1)
            self.assertAlmostEqual(float(h), 841.9, delta=1)
        # the domains hold the same data, each from a page of its own:
        # one domain alone prints the title page and then its section,
        # eight the title page (with the overview) and eight such sections
        _, one = self.pdf_pages(self.page("--domain", doms[0]))
        self.assertGreater(one, 1)
        self.assertEqual(pages, 1 + len(doms) * (one - 1))

    def test_no_network_request(self):
        self.history(days=5)
        # a receiver whose name tries to load something
        self.write("evil/r.xml", report_xml(
            org='&lt;img src="http://192.0.2.1/x.png"&gt;&lt;link rel=stylesheet href=//192.0.2.1/c.css&gt;',
            report_id="evil", domain="example.com", begin=DAY0, end=DAY0 + 86399,
            records=[google()]))
        self.assertExit(self.ingest(self.path("evil")), EX_OK)
        page = self.page()
        with open(page, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("default-src 'none'", text)
        self.assertIn('&lt;img src=&quot;http://192.0.2.1/x.png&quot;&gt;', text)
        # the method first: a page that does fetch something shows up
        control = self.write("control.html", '<!DOCTYPE html><title>c</title>'
                             '<img src="http://192.0.2.7/canary.png" alt="">')
        self.assertIn("http://192.0.2.7/canary.png", self.requested(control))
        # then the page: it is shown, with the receiver's name as text
        foreign = [u for u in self.requested(page) if not u.startswith("file://")
                   and not urllib.parse.urlsplit(u).hostname.endswith(BROWSER_HOSTS)]
        self.assertEqual(foreign, [])

    def requested(self, page):
        """Every URL the browser's net log names while it loads page."""
        netlog = self.path("net.json")
        proc = self.browser.run("--log-net-log=" + netlog, "--net-log-capture-mode=Everything",
                                "--dump-dom", "file://" + page)
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(proc.stdout.startswith(b"<!DOCTYPE html>"))
        with open(netlog, encoding="utf-8", errors="replace") as f:
            raw = f.read()
        os.unlink(netlog)
        # JSON, but Chromium may leave it unterminated when it exits
        return {t.split('"', 1)[0] for t in raw.split('"url":"')[1:]}

    def test_hostile_strings_stay_text(self):
        # XML cannot carry C0 controls but for TAB/LF/CR; C1 and bidi it can
        evil = '<script>alert(1)</script>" onmouseover="x\u202e\u009b31m'
        self.write("in/r.xml", report_xml(
            org=evil.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
            report_id="r1", domain="example.com", begin=DAY0, end=DAY0 + 86399,
            records=[google(), spoof(1)]))
        self.assertExit(self.ingest(self.path("in")), EX_OK)
        r = self.dom(self.page())
        self.assertNotIn("script", r.tags)
        self.assertFalse([a for a in r.attrs if a.startswith("on")], r.attrs)
        text = "".join(r.text)
        self.assertIn("<script>alert(1)</script>", text)   # shown, as text
        self.assertIn("\\u202E", text)                     # the override made visible
        self.assertIn("\\x9B31m", text)
        self.assertNotIn("\u202e", text)

    def test_demo_page_screenshot(self):
        """The examples the demo imports, as the README shows them: the
        picture is written to the build directory (docs/html-report.png is
        a copy of it)."""
        self.assertExit(self.ingest(EXAMPLES), EX_OK)
        png = os.path.join(BUILD, "html-demo.png")
        proc = self.browser.run("--window-size=1000,1500", "--screenshot=" + png, "file://" + self.page())
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
        width, height, colours = png_size_and_colours(png)
        self.assertEqual((width, height), (1000, 1500))
        self.assertGreater(colours, 100)

    def test_html_parses_without_errors(self):
        self.history(days=9)
        self.assertValidHtml(self.page())

    def test_output_file_is_replaced_only_on_success(self):
        self.history(days=3, domains=("example.com",))
        out = self.path("page.html")
        self.write("page.html", "old page\n")
        proc = self.report("--db", self.path("missing.db"), "html", "-o", out)
        self.assertNotEqual(proc.returncode, EX_OK)
        with open(out) as f:
            self.assertEqual(f.read(), "old page\n")
        self.assertEqual([x for x in os.listdir(self.tmp) if x.startswith("page.html.")], [])
        self.assertExit(self.report("html", "-o", out), EX_OK)
        with open(out) as f:
            self.assertTrue(f.read().startswith("<!DOCTYPE html>"))
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o644 & ~current_umask())
        proc = self.report("html", "-o", self.path("no/such/dir/page.html"))
        self.assertEqual(proc.returncode, 73)
        self.assertIn(b"-o: cannot create", proc.stderr)

    def test_help(self):
        a, b = self.report("help", "html"), self.report("html", "--help")
        self.assertExit(a, EX_OK)
        self.assertEqual(a.stdout, b.stdout)
        self.assertIn(b"Usage: dmarc-report [OPTION]... html", a.stdout)
        self.assertIn(b"-o, --output FILE", a.stdout)

    def test_many_domains_stay_small(self):
        doms = ["d%03d.example" % i for i in range(60)]
        self.history(days=30, domains=doms)
        page = self.page()
        size = os.path.getsize(page)
        # 60 domains x 30 days: well under the 5 MB a page may take for
        # 500 domains over three years (bench/ measures that scale)
        self.assertLess(size, 2_500_000)
        with open(page, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count('<section class="domain"'), 60)
        self.assertIn("<h2>Overview</h2>", text)
        self.assertEqual(text.count("<tr data-domain="), 60)
        # past 20 domains each gets its DMARC result chart only ...
        self.assertEqual(text.count("DMARC result per"), 60)
        self.assertNotIn("by source</figcaption>", text)
        # ... and one of them selected gets every chart and its numbers
        with open(self.page("--domain", "d007.example"), encoding="utf-8") as f:
            one = f.read()
        self.assertEqual(one.count('<section class="domain"'), 1)
        self.assertIn("Messages per day by source", one)
        self.assertIn("DMARC pass rate per day by source", one)
        self.assertEqual(one.count("<summary>The numbers</summary>"), 3)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
