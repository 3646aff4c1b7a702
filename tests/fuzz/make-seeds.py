#!/usr/bin/env python3
"""Builds the fuzzers' seed corpora at run time (they are never committed).

    make-seeds.py OUTDIR [SOURCE_DIR...]

Reads every file under the SOURCE_DIRs (default: the project's examples/
and, when present, ../shared/corpus/files or $DMARCSIFT_CORPUS/files) and
writes, under OUTDIR/<target>/, one file per seed, named by its SHA-1:

  salvage  the first 4 KiB of each of those
  parser   every XML document found (inside gzip, zlib, zip and messages
           too), plus small reports written here with the quirks the parser
           must handle (RFC 9990 namespace, records before the header, a
           stray wrapper, invalid UTF-8, windows-1252, entity declarations)
  unpack   every file as it is, and those documents wrapped anew: gzip,
           multi-member gzip with trailing bytes, zlib, zip, gzip in zip,
           zip in gzip, a message with the report attached
  mime     every file that looks like a message, and messages written here
           (multipart/report, message/rfc822, quoted-printable, base64)
  mbox     those messages behind "From " lines, one per file and all in one
  maildir  those messages, one per file and joined by the separator that
           fuzz_maildir splits on
"""
import base64
import email.message
import email.parser
import email.policy
import gzip
import hashlib
import io
import os
import sys
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
MAILDIR_SEP = b"\n\x01\x02\n"  # FUZZ_MAILDIR_SEP in fuzz.h
MAX_SEED = 1 << 20


def is_xml(data):
    d = data.lstrip(b"\xef\xbb\xbf").lstrip()
    return d.startswith(b"<") or data[:2] in (b"\xff\xfe", b"\xfe\xff")


def looks_like_message(data):
    head = data[:80]
    if head.startswith(b"From "):
        return True
    colon = head.find(b":")
    return colon > 0 and all(0x21 <= c <= 0x7e for c in head[:colon])


def xml_docs(data, depth=0):
    """Every XML document inside data, through archives and messages."""
    if depth > 6 or not data:
        return []
    if data[:2] == b"\x1f\x8b":
        try:
            return xml_docs(gzip.decompress(data), depth + 1)
        except (OSError, EOFError, zlib.error):
            try:
                return xml_docs(zlib.decompressobj(31).decompress(data), depth + 1)
            except zlib.error:
                return []
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        out = []
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist()[:20]:
                    try:
                        out += xml_docs(z.read(info), depth + 1)
                    except (RuntimeError, zipfile.BadZipFile, zlib.error, NotImplementedError):
                        pass
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
        return out
    if is_xml(data):
        return [data]
    if looks_like_message(data):
        out = []
        if data.startswith(b"From "):
            data = data.split(b"\n", 1)[-1]
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
        for part in msg.walk():
            if part.is_multipart():
                continue
            try:
                payload = part.get_payload(decode=True)
            except Exception:  # a broken part is simply not a seed
                payload = None
            if payload:
                out += xml_docs(payload, depth + 1)
        return out
    try:
        return xml_docs(zlib.decompress(data), depth + 1)
    except zlib.error:
        return []


META = (b"<report_metadata><org_name>Seed Org</org_name><email>dmarc@seed.example</email>"
        b"<report_id>seed-1</report_id><date_range><begin>1700000000</begin>"
        b"<end>1700086399</end></date_range></report_metadata>")
POLICY = (b"<policy_published><domain>example.com</domain><adkim>r</adkim><aspf>s</aspf>"
          b"<p>none</p><sp>quarantine</sp><pct>100</pct></policy_published>")
RECORD = (b"<record><row><source_ip>192.0.2.1</source_ip><count>3</count><policy_evaluated>"
          b"<disposition>none</disposition><dkim>pass</dkim><spf>fail</spf><reason><type>"
          b"forwarded</type><comment>list</comment></reason></policy_evaluated></row>"
          b"<identifiers><header_from>example.com</header_from><envelope_from>bounce.example.com"
          b"</envelope_from></identifiers><auth_results><dkim><domain>example.com</domain>"
          b"<selector>s1</selector><result>pass</result></dkim><spf><domain>example.com</domain>"
          b"<scope>mfrom</scope><result>softfail</result></spf></auth_results></record>")


def written_reports():
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    return [
        decl + b"<feedback>" + META + POLICY + RECORD + RECORD + b"</feedback>\n",
        b'<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version>' + META
        + POLICY.replace(b"<pct>100</pct>", b"<np>reject</np><testing>n</testing>"
                         b"<discovery_method>treewalk</discovery_method>")
        + RECORD + b"<extension><x:y xmlns:x='urn:x'/></extension></feedback>",
        b"<feedback>" + RECORD + META + POLICY + b"</feedback>",
        decl + b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><feedback>' + META
        + POLICY + RECORD + b"</feedback>",
        decl + b"<feedback>" + META.replace(b"Seed Org", b"Caf\xe9 \xff\x91") + POLICY + RECORD
        + b"</feedback>",
        b'<?xml version="1.0" encoding="windows-1252"?><feedback>'
        + META.replace(b"Seed Org", b"Caf\xe9 \x80") + POLICY + b"</feedback>",
        b"\n  " + decl + b"<feedback>" + META + POLICY + RECORD + b"</feedback>",
        decl + b"<feedback>" + META.replace(b"<email>dmarc@seed.example</email>",
                                            b"<email><bad@x.example></email>") + POLICY + RECORD
        + b"</feedback>",
        decl + b'<!DOCTYPE feedback [<!ENTITY x SYSTEM "file:///etc/passwd">]><feedback>'
        + META.replace(b"Seed Org", b"&x;") + POLICY + b"</feedback>",
        b"<feedback>" + META + POLICY + RECORD + b"<record><row><source_ip>192.0",
        b"<feedback><report_metadata><org_name/><email>a@b</email><report_id>&lt;id@x&gt;"
        b"</report_id><data_range><begin> 1 </begin><end>2.0</end></data_range>"
        b"<error>e1</error><error>e2</error></report_metadata>" + POLICY
        + b"<record><identities><header_from>A.Example.</header_from></identities><row><count>"
        b"1</count><source_ip>2001:DB8::0:1</source_ip></row></record></feedback>",
        b"\xef\xbb\xbf<feedback>" + META + POLICY + b"<![CDATA[x]]><!-- c --><?pi x?>"
        + RECORD + b"</feedback>",
    ]


def message(attachments, body="A DMARC aggregate report.", subject="Report Domain: example.com"):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "noreply-dmarc@receiver.example"
    m["To"] = "dmarc@example.com"
    m["Subject"] = subject
    m["Date"] = "Tue, 24 Nov 2026 10:00:00 +0000"
    m.set_content(body)
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def wrapped(doc):
    g = gzip.compress(doc, mtime=0)
    return [
        g,
        g + gzip.compress(b"<!-- second member -->", mtime=0) + b"\r\n",
        zlib.compress(doc),
        zipped([("report.xml", doc)]),
        zipped([("a.xml.gz", g), ("b.txt", b"not a report")]),
        gzip.compress(zipped([("report.xml", doc)]), mtime=0),
        message([("report.xml.gz", "application/gzip", g)]),
    ]


def written_messages(doc):
    g = gzip.compress(doc, mtime=0)
    fwd = message([("r.zip", "application/zip", zipped([("r.xml", doc)]))])
    outer = email.message.EmailMessage(policy=email.policy.SMTP)
    outer["From"] = "a@example.com"
    outer["Subject"] = "Fwd: report"
    outer.set_content("forwarded")
    outer.add_attachment(email.message_from_bytes(fwd, policy=email.policy.SMTP))
    qp = (b"From: r@example.net\r\nSubject: qp\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: text/xml; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
          + b"=3C".join(doc.split(b"<")[:40]) + b"\r\n")
    arf = (b"From: r@example.net\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
           b'report-type=feedback-report; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
           b"x\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: auth-failure\r\n"
           b"\r\n--b--\r\n")
    b64 = (b"From: r@example.net\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
           b'boundary="x"\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--x\r\n'
           b"Content-Type: application/octet-stream; name*0=\"a.xml\"; name*1=\".gz\"\r\n"
           b"Content-Disposition: attachment; filename=\"=?utf-8?q?r=C3=A9port.gz?=\"\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(g) + b"--x--\r\n")
    return [fwd, outer.as_bytes(), qp, arf, b64]


def files_under(dirs):
    for d in dirs:
        for root, subdirs, names in os.walk(d):
            subdirs.sort()
            for n in sorted(names):
                p = os.path.join(root, n)
                if os.path.isfile(p) and os.path.getsize(p) <= 16 * MAX_SEED:
                    with open(p, "rb") as f:
                        yield p, f.read()


def imap_transcripts(messages):
    """What a server says to fuzz_imap's client: greeting, CAPABILITY (tag
    1), SELECT (2), LIST (3), UID FETCH of bodies (4); whole, and cut
    short or bent in the places the guard watches (literals, long lines,
    untagged floods)."""
    small = [m[:2000] for m in messages] or [b"Subject: x\r\n\r\nbody\r\n"]
    fetch = b"".join(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (i, i, len(m)) + m + b")\r\n"
                     for i, m in enumerate(small, 1))
    good = (b"* OK [CAPABILITY IMAP4rev1] ready\r\n"
            b"* CAPABILITY IMAP4rev1 MOVE UIDPLUS NAMESPACE\r\n1 OK done\r\n"
            b"* FLAGS (\\Seen \\Deleted)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n"
            b"* OK [UIDNEXT 4] n\r\n2 OK [READ-WRITE] SELECT done\r\n"
            b'* LIST (\\Noselect) "/" ""\r\n* LIST () "/" {5}\r\nINBOX\r\n3 OK LIST done\r\n'
            + fetch + b"4 OK FETCH done\r\n")
    return [good, good[:len(good) // 2],
            good.replace(b"{5}\r\nINBOX", b"{99999999}\r\nINBOX"),
            b"* OK " + b"a" * 20000 + b"\r\n",
            b"* OK hi\r\n" + b"* OK flood\r\n" * 3000 + b"1 OK done\r\n"]


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    dirs = sys.argv[2:]
    if not dirs:
        dirs = [os.path.join(SOURCE, "examples")]
        corpus = os.environ.get("DMARCSIFT_CORPUS", os.path.join(SOURCE, "..", "shared", "corpus"))
        if os.path.isdir(os.path.join(corpus, "files")):
            dirs.append(os.path.join(corpus, "files"))
    seeds = {t: set() for t in ("parser", "salvage", "unpack", "mime", "mbox", "maildir", "imap", "tlsrpt")}

    def add(target, data):
        if data and len(data) <= MAX_SEED:
            seeds[target].add(bytes(data))

    docs = written_reports()
    messages = []
    for path, data in files_under(dirs):
        if path.endswith((".py", ".md")):
            continue
        add("unpack", data)
        if data.lstrip()[:1] == b"{":
            add("tlsrpt", data)  # SMTP TLS reports (RFC 8460 JSON)
        docs += xml_docs(data)
        if looks_like_message(data) and not is_xml(data):
            messages.append(data)
    for d in docs:
        add("parser", d)
        add("salvage", d[:4096])
    for d in sorted(docs, key=len)[:40]:
        for w in wrapped(d):
            add("unpack", w)
        messages += written_messages(d)[:2]
    messages += written_messages(docs[0])
    for m in messages:
        add("mime", m)
        add("unpack", m)
        body = m.split(b"\n", 1)[1] if m.startswith(b"From ") else m
        add("mbox", b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + body)
        add("maildir", body)
    mbox = b"".join(b"From a@b Thu Jan  1 00:00:00 2026\n" + m.replace(b"\nFrom ", b"\n>From ")
                    + b"\n" for m in messages[:20])
    add("mbox", mbox)
    add("maildir", MAILDIR_SEP.join(messages[:8]))
    for t in imap_transcripts(messages[:3]):
        add("imap", t)
    for target, items in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for data in items:
            name = hashlib.sha1(data).hexdigest()
            p = os.path.join(d, name)
            if not os.path.exists(p):
                # atomically: several runs may write the same seeds at once
                tmp = "%s.%d.tmp" % (p, os.getpid())
                with open(tmp, "wb") as f:
                    f.write(data)
                os.replace(tmp, p)
        print("%-8s %4d seeds in %s" % (target, len(items), d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
