"""Issue 11: an input named on the command line that is a pipe (a FIFO,
bash's <(zcat r.xml.gz)) is read as a stream, like standard input; it was
skipped with exit 0 ("not a regular file, skipped")."""
import gzip
import os
import shlex
import subprocess
import threading

import dmarctest as dt


class TestPipes(dt.Case):

    def test_process_substitution(self):
        gz = self.write("r.xml.gz", gzip.compress(
            dt.report_xml(report_id="from-a-pipe")))
        cmd = "%s --db %s -v <(zcat %s)" % (
            " ".join(shlex.quote(a) for a in dt.wrap([dt.INGEST])),
            shlex.quote(self.db), shlex.quote(gz))
        p = subprocess.run(["bash", "-c", cmd], capture_output=True,
                           timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b"skipped", p.stderr)
        self.assertIn(b"/dev/fd/", p.stderr)  # named as given
        self.assertEqual(self.sql("SELECT report_id FROM reports"),
                         [("from-a-pipe",)])

    def test_fifo(self):
        fifo = self.path("reports.fifo")
        os.mkfifo(fifo)
        data = dt.gz(dt.report_xml(report_id="from-a-fifo"))

        def writer():
            with open(fifo, "wb") as f:
                f.write(data)
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        p = self.ingest(fifo)
        t.join(10)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.sql("SELECT report_id FROM reports"),
                         [("from-a-fifo",)])

    def test_fifo_with_junk_is_rejected_not_skipped(self):
        fifo = self.path("junk.fifo")
        os.mkfifo(fifo)

        def writer():
            with open(fifo, "wb") as f:
                f.write(b"nothing to see here\n" * 100)
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        p = self.ingest(fifo)
        t.join(10)
        self.assertEqual(p.returncode, dt.EX_DATAERR, p.stderr)
        self.assertIn(fifo.encode(), p.stderr)
